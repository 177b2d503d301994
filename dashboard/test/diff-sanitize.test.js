// MediaWiki diffs (diffSanitize.js): rebuilt from an allow-list, in two
// layouts, with hostile compare output reduced to its text.
import { describe, expect, test } from 'vitest';
import { parseDiff, buildSideBySide, buildInline, DIFF_CLASSES, MAX_ROWS } from '../src/diffSanitize.js';
import { BYPASSES } from './bypasses.js';

const XHTML = 'http://www.w3.org/1999/xhtml';
const TABLE = new Set( [ 'table', 'tbody', 'tr', 'td' ] );
const INLINE = new Set( [ 'ins', 'del', 'div', 'span' ] );

/** A MediaWiki compare body: line numbers, a change, context, an added line. */
const ROWS = [
	'<tr><td colspan="2" class="diff-lineno">Line 1:</td><td colspan="2" class="diff-lineno">Line 1:</td></tr>',
	'<tr><td class="diff-marker" data-marker="−"></td><td class="diff-deletedline diff-side-deleted"><div>old <del class="diffchange diffchange-inline">x</del></div></td>',
	'<td class="diff-marker" data-marker="+"></td><td class="diff-addedline diff-side-added"><div>new <ins class="diffchange diffchange-inline">y</ins></div></td></tr>',
	'<tr><td class="diff-marker"></td><td class="diff-context diff-side-deleted"><div>same</div></td><td class="diff-marker"></td><td class="diff-context diff-side-added"><div>same</div></td></tr>',
	'<tr><td colspan="2" class="diff-empty diff-side-deleted"></td><td class="diff-marker" data-marker="+"></td><td class="diff-addedline diff-side-added"><div>only new</div></td></tr>'
].join( '' );

/** Everything in a built table outside the allow-list. */
function outside( root ) {
	const bad = [];
	for ( const el of [ root, ...root.querySelectorAll( '*' ) ] ) {
		const tag = el.localName;
		if ( el.namespaceURI !== XHTML || !( TABLE.has( tag ) || INLINE.has( tag ) ) ) {
			bad.push( `<${ tag }>` );
		}
		for ( const a of el.attributes ) {
			if ( a.name === 'class' ) {
				const foreign = a.value.split( ' ' ).filter( ( c ) => !DIFF_CLASSES.has( c ) && !/^pc-diff-table(--side|--inline)?$/.test( c ) );
				if ( foreign.length ) {
					bad.push( `<${ tag } class="${ foreign.join( ' ' ) }">` );
				}
			} else if ( !( a.name === 'colspan' && tag === 'td' && /^[24]$/.test( a.value ) ) ) {
				bad.push( `<${ tag } ${ a.name }="${ a.value }">` );
			}
		}
	}
	return bad;
}

/** A built table serialised and parsed again: what a mutation would make of it. */
function reparsed( t ) {
	const doc = new DOMParser().parseFromString( `<body>${ t.outerHTML }`, 'text/html' );
	return doc.body.firstElementChild;
}

/** The rows of a built table as lines of `marker|text` (cells joined by `|`). */
function lines( t ) {
	return [ ...t.querySelectorAll( 'tr' ) ].map( ( tr ) => [ ...tr.children ].map( ( c ) => c.textContent ).join( '|' ) );
}

describe( 'a MediaWiki diff', () => {
	test( 'side by side keeps the table as the wiki lays it out', () => {
		const { rows, truncated } = parseDiff( ROWS );
		expect( truncated ).toBe( false );
		const t = buildSideBySide( rows );
		expect( outside( t ) ).toEqual( [] );
		expect( lines( t ) ).toEqual( [
			'Line 1:|Line 1:',
			'\u2212|old x|+|new y',
			'|same||same',
			'|+|only new'
		] );
		expect( t.querySelector( 'td.diff-deletedline.diff-side-deleted del.diffchange.diffchange-inline' ).textContent ).toBe( 'x' );
		expect( t.querySelector( 'td.diff-addedline.diff-side-added ins.diffchange' ).textContent ).toBe( 'y' );
		expect( t.querySelector( 'td.diff-empty' ).colSpan ).toBe( 2 );
		// No data-marker: the marker is text from the line's class.
		expect( t.querySelector( '[data-marker]' ) ).toBe( null );
	} );

	test( 'inline shows context once, and removed lines before added ones, each marked', () => {
		const change = ( o, n ) => `<tr><td class="diff-marker"></td><td class="diff-deletedline diff-side-deleted"><div>${ o }</div></td><td class="diff-marker"></td><td class="diff-addedline diff-side-added"><div>${ n }</div></td></tr>`;
		const html = ROWS + change( 'a1', 'b1' ) + change( 'a2', 'b2' );
		const t = buildInline( parseDiff( html ).rows );
		expect( outside( t ) ).toEqual( [] );
		expect( lines( t ) ).toEqual( [
			'Line 1:',
			'\u2212|old x',
			'+|new y',
			'|same',
			'\u2212|a1',
			'\u2212|a2',
			'+|only new',
			'+|b1',
			'+|b2'
		] );
		expect( [ ...t.querySelectorAll( 'td.diff-deletedline' ) ].length ).toBe( 3 );
		expect( [ ...t.querySelectorAll( 'td.diff-addedline' ) ].length ).toBe( 4 );
	} );

	test( 'a whole diff table (with colgroup and header rows) reads the same', () => {
		const html = '<table class="diff"><colgroup><col class="diff-marker"></colgroup><tbody>' + ROWS + '</tbody></table>';
		expect( lines( buildSideBySide( parseDiff( html ).rows ) ) ).toEqual( lines( buildSideBySide( parseDiff( ROWS ).rows ) ) );
	} );

	test( 'no rows, no table rows', () => {
		expect( parseDiff( '' ).rows ).toEqual( [] );
		expect( parseDiff( null ).rows ).toEqual( [] );
		expect( buildInline( [] ).querySelectorAll( 'tr' ).length ).toBe( 0 );
	} );
} );

describe( 'hostile compare output', () => {
	const cell = ( cls, inner, attrs = '' ) => `<td class="${ cls }"${ attrs }>${ inner }</td>`;
	const row = ( a, b ) => `<tr><td class="diff-marker"></td>${ a }<td class="diff-marker"></td>${ b }</tr>`;
	const HOSTILE = [
		row(
			cell( 'diff-deletedline diff-side-deleted', '<div style="color:red" onclick="alert(1)">A1<script>alert(1)</script><img src=x onerror=alert(1)>A2</div>', ' style="background:url(https://evil.example/x)" onmouseover="alert(1)"' ),
			cell( 'diff-addedline diff-side-added evil', '<div>B1<a href="javascript:alert(1)">B2</a><ins class="diffchange x" onfocus="alert(1)" style="x">B3</ins><style>*{}</style></div>' )
		),
		row(
			cell( 'diff-context diff-side-deleted', '<div>C1<iframe src="https://evil.example/f">C-frame</iframe><svg onload=alert(1)><text>C-svg</text></svg><math><mi>C-math</mi></math>C2</div>' ),
			cell( 'diff-context diff-side-added', '<div>D1<object data="x">D-obj</object><embed src="x"><template><img src=x onerror=alert(1)>D-tpl</template><noscript><img src=x onerror=alert(1)>D-ns</noscript>D2</div>' )
		),
		row(
			cell( 'diff-deletedline diff-side-deleted', '<div><b onmouseover=alert(1)>E1</b> <span class="mw-diff-inline-added" data-x="1" title="t" id="i">E2</span><form action="javascript:alert(1)"><input value="v">E3</form></div>' ),
			cell( 'diff-addedline diff-side-added', '<div><table><tr><td class="diff-addedline">F1</td></tr></table><!-- c -->F2<del class="diffchange" lang="x" dir="rtl">F3</del></div>' )
		),
		'<tr><td onclick="alert(1)" style="x">G1</td><td>G2<img src=x onerror=alert(1)></td></tr>',
		'<tr><td class="diff-marker" data-marker="<img src=x onerror=alert(1)>">H-marker</td><td class="diff-addedline diff-side-added"><div>H1</div></td></tr>',
		'</tbody></table><img src=x onerror=alert(1)><div class="diff-context">outside</div><table><tr><td class="diff-context">I1</td></tr>'
	].join( '' );

	for ( const [ name, build ] of [ [ 'side by side', buildSideBySide ], [ 'inline', buildInline ] ] ) {
		test( `${ name }: only the allow-list, the text kept, dropped elements' content gone`, () => {
			const t = build( parseDiff( HOSTILE ).rows );
			expect( outside( t ) ).toEqual( [] );
			const text = t.textContent;
			for ( const kept of [ 'A1', 'A2', 'B1', 'B2', 'B3', 'E1', 'E2', 'E3', 'F1', 'F2', 'F3', 'G1', 'G2', 'H1', 'I1' ] ) {
				expect( text, kept ).toContain( kept );
			}
			if ( name === 'side by side' ) {
				for ( const kept of [ 'C1', 'C2', 'D1', 'D2' ] ) {
					expect( text, kept ).toContain( kept );
				}
			}
			for ( const gone of [ 'alert', 'C-frame', 'C-svg', 'C-math', 'D-obj', 'D-tpl', 'D-ns', 'H-marker', '*{}', 'outside' ] ) {
				expect( text, gone ).not.toContain( gone );
			}
			expect( t.querySelector( 'ins.diffchange' ).className ).toBe( 'diffchange' );
			expect( t.querySelector( 'span.mw-diff-inline-added' ).attributes.length ).toBe( 1 );
		} );
	}

	test( 'hostile HTML is never put into the page, and nothing loads', () => {
		const before = document.body.innerHTML;
		const { rows } = parseDiff( HOSTILE );
		buildSideBySide( rows );
		expect( document.body.innerHTML ).toBe( before );
		expect( document.querySelector( 'img, script, iframe' ) ).toBe( null );
	} );

	test( 'deep nesting is flattened to text', () => {
		const deep = '<span>'.repeat( 500 ) + 'deep' + '</span>'.repeat( 500 );
		const t = buildSideBySide( parseDiff( row( cell( 'diff-context', deep ), cell( 'diff-context', 'x' ) ) ).rows );
		expect( t.textContent ).toContain( 'deep' );
		let depth = 0;
		for ( let el = t.querySelector( 'span' ); el; el = el.querySelector( 'span' ) ) {
			depth++;
		}
		expect( depth ).toBeLessThan( 30 );
	} );

	test( 'a long diff is cut at MAX_ROWS rows', () => {
		const many = row( cell( 'diff-context', 'r' ), cell( 'diff-context', 'r' ) ).repeat( MAX_ROWS + 10 );
		const parsed = parseDiff( many );
		expect( parsed.rows.length ).toBe( MAX_ROWS );
		expect( parsed.truncated ).toBe( true );
	}, 30000 );
} );

describe( 'known sanitiser bypasses, in a cell and as rows', () => {
	const layouts = { 'side by side': buildSideBySide, inline: buildInline };
	for ( const [ name, payload ] of Object.entries( BYPASSES ) ) {
		const inCell = `<tr><td class="diff-marker"></td><td class="diff-deletedline diff-side-deleted"><div>${ payload }</div></td>` +
			`<td class="diff-marker"></td><td class="diff-addedline diff-side-added"><div>${ payload }</div></td></tr>`;
		for ( const [ layout, build ] of Object.entries( layouts ) ) {
			test( `${ name } (${ layout })`, () => {
				for ( const html of [ inCell, payload ] ) {
					const t = build( parseDiff( html ).rows );
					expect( outside( t ) ).toEqual( [] );
					expect( outside( reparsed( t ) ) ).toEqual( [] );
				}
			} );
		}
	}
} );
