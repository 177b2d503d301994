// Wiki HTML: the DOMPurify profile (summary) against known bypass
// payloads, the parsedcomment segments the views render, defuse, safeHref,
// and that no component renders HTML from data.
import { describe, expect, test } from 'vitest';
import { createApp, nextTick } from 'vue';
import {
	sanitizeComment, sanitizeHtml, safeHref, defuse, PROFILES
} from '../src/sanitize.js';
import { BYPASSES } from './bypasses.js';
import { LINK_REL } from '../src/links.js';
import CommentText from '../src/components/CommentText.vue';
import { sources } from './sources.js';

const S = 'https://en.wikipedia.org';
const clean = ( html, server = S ) => sanitizeComment( html, server );
const XHTML = 'http://www.w3.org/1999/xhtml';
const URL_ATTRS = [ 'href', 'src', 'action', 'formaction', 'xlink:href', 'srcset' ];

/** What each kind may hold: element → attributes. */
const ALLOWED = {
	summary: { a: [ 'href', 'rel' ] }
};

/**
 * Everything in a sanitised fragment that is outside `kind`'s allow-list,
 * and every URL that is not absolute http(s). Empty when the fragment is
 * clean.
 */
function outside( fragment, kind ) {
	const bad = [];
	for ( const el of fragment.querySelectorAll( '*' ) ) {
		const tag = el.localName;
		if ( el.namespaceURI !== XHTML || !( tag in ALLOWED[ kind ] ) ) {
			bad.push( `<${ tag }> (${ el.namespaceURI })` );
			continue;
		}
		for ( const a of el.attributes ) {
			if ( !ALLOWED[ kind ][ tag ].includes( a.name ) ) {
				bad.push( `<${ tag } ${ a.name }="${ a.value }">` );
			}
			if ( URL_ATTRS.includes( a.name ) && !/^https?:\/\/[^\s]/i.test( a.value ) ) {
				bad.push( `<${ tag } ${ a.name }="${ a.value }"> is not http(s)` );
			}
		}
		if ( tag === 'a' && el.hasAttribute( 'href' ) && el.getAttribute( 'rel' ) !== LINK_REL ) {
			bad.push( `<a> without rel="${ LINK_REL }"` );
		}
	}
	return bad;
}

/** The fragment's HTML, parsed again: what a mutation would turn it into. */
function reparsed( fragment ) {
	const holder = document.createElement( 'div' );
	holder.append( fragment.cloneNode( true ) );
	const doc = new DOMParser().parseFromString( `<body>${ holder.innerHTML }`, 'text/html' );
	const out = document.createDocumentFragment();
	out.append( ...doc.body.childNodes );
	return out;
}


describe( 'DOMPurify profiles', () => {
	for ( const kind of [ 'summary' ] ) {
		for ( const [ name, payload ] of Object.entries( BYPASSES ) ) {
			test( `${ kind }: ${ name }`, () => {
				const out = sanitizeHtml( payload, kind, S );
				expect( outside( out, kind ) ).toEqual( [] );
				expect( outside( reparsed( out ), kind ) ).toEqual( [] );
			} );
		}
	}

	test( 'the summary profile keeps text and http(s) links', () => {
		const out = sanitizeHtml( '<b>bold</b> <a href="https://ok.example/" onclick="x">ok</a> <a href="/wiki/X">w</a> <a href="javascript:alert(1)">js</a>', 'summary', S );
		const links = [ ...out.querySelectorAll( 'a' ) ].map( ( a ) => [ a.textContent, a.getAttribute( 'href' ), a.getAttribute( 'rel' ) ] );
		expect( links ).toEqual( [
			[ 'ok', 'https://ok.example/', LINK_REL ],
			[ 'w', 'https://en.wikipedia.org/wiki/X', LINK_REL ],
			[ 'js', null, null ]
		] );
		expect( out.textContent ).toBe( 'bold ok w js' );
	} );

	test( 'the profiles are the allow-lists', () => {
		expect( PROFILES.summary.ALLOWED_TAGS ).toEqual( [ 'a' ] );
		expect( PROFILES.summary.ALLOWED_ATTR ).toEqual( [ 'href' ] );
		expect( Object.keys( PROFILES ) ).toEqual( [ 'summary' ] );
		expect( () => sanitizeHtml( '<b>x</b>', 'diff' ) ).toThrow();
	} );
} );

describe( 'parsedcomment', () => {
	test( 'a section link and text render as today', async () => {
		const html = '<span class="autocomment"><a href="/wiki/Foo#Bar" title="Foo">→‎Bar</a>: </span> text';
		expect( clean( html ) ).toEqual( [
			{ text: '→‎Bar', href: 'https://en.wikipedia.org/wiki/Foo#Bar' },
			{ text: ': text' }
		] );
		const el = document.createElement( 'div' );
		const app = createApp( CommentText, { html, serverUrl: S } );
		app.mount( el );
		await nextTick();
		expect( el.innerHTML ).toBe( `<span class="pc-comment"><a href="https://en.wikipedia.org/wiki/Foo#Bar" rel="${ LINK_REL }">→‎Bar</a>: text</span>` );
		app.unmount();
	} );

	test( 'sanitiser keeps text and wiki links, made absolute', () => {
		expect(
			clean( '<span class="autocomment"><a href="/wiki/Foo#History" title="Foo">→‎History</a>: </span> fixed <a href="/wiki/Bar_baz" title="Bar baz">Bar baz</a>' )
		).toEqual( [
			{ text: '→‎History', href: 'https://en.wikipedia.org/wiki/Foo#History' },
			{ text: ': fixed ' },
			{ text: 'Bar baz', href: 'https://en.wikipedia.org/wiki/Bar_baz' }
		] );
	} );

	test( 'sanitiser keeps external http(s) links', () => {
		expect( clean( 'see <a rel="nofollow" class="external text" href="https://example.org/x?a=1&amp;b=2">source</a>' ) )
			.toEqual( [ { text: 'see ' }, { text: 'source', href: 'https://example.org/x?a=1&b=2' } ] );
		expect( clean( '<a href="//commons.wikimedia.org/wiki/X">X</a>' ) ).toEqual( [ { text: 'X', href: 'https://commons.wikimedia.org/wiki/X' } ] );
	} );

	test( 'sanitiser drops scripts, styles and their content', () => {
		expect( clean( 'a<script>alert(1)</script>b<style>body{display:none}</style>c' ) ).toEqual( [ { text: 'abc' } ] );
		expect( clean( '<scr<script>ipt>alert(1)</script>' ) ).toEqual( [ { text: 'ipt>alert(1)' } ] );
		expect( clean( '<svg><script>alert(1)</script></svg>x' ) ).toEqual( [ { text: 'x' } ] );
		expect( clean( '<template><img src=x onerror=alert(1)></template>y' ) ).toEqual( [ { text: 'y' } ] );
		expect( clean( '<noscript><p title="</noscript><img src=x onerror=alert(1)>">' ).filter( ( s ) => s.href ) ).toEqual( [] );
	} );

	test( 'sanitiser drops images, iframes, forms and event handlers', () => {
		expect( clean( '<img src="x" onerror="alert(1)">hi' ) ).toEqual( [ { text: 'hi' } ] );
		expect( clean( '<iframe src="javascript:alert(1)"></iframe>ok' ) ).toEqual( [ { text: 'ok' } ] );
		expect( clean( '<b onmouseover="alert(1)">bold</b>' ) ).toEqual( [ { text: 'bold' } ] );
		expect( clean( '<form action="https://evil.example"><button>go</button></form>z' ) ).toEqual( [ { text: 'z' } ] );
		expect( clean( '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>' ) ).toEqual( [] );
	} );

	test( 'sanitiser turns dangerous links into text', () => {
		for ( const href of [
			'javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)',
			'&#106;avascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x',
			'wiki/Relative', './Foo', '#top', '/\\evil.example/x', 'https://user:pw@example.org/'
		] ) {
			const segs = clean( `<a href="${ href.replace( /"/g, '&quot;' ) }">t</a>` );
			expect( segs, `href ${ JSON.stringify( href ) }` ).toEqual( [ { text: 't' } ] );
		}
		expect( clean( '<a href="/wiki/X">t</a>', 'javascript:alert(1)' ), 'bad server URL' ).toEqual( [ { text: 't' } ] );
		expect( clean( '<a>no href</a>' ) ).toEqual( [ { text: 'no href' } ] );
	} );

	test( 'sanitiser reads link text without markup inside', () => {
		expect( clean( '<a href="/wiki/A"><img src=x onerror=alert(1)><script>bad()</script><b>A</b>!</a>' ) )
			.toEqual( [ { text: 'A!', href: 'https://en.wikipedia.org/wiki/A' } ] );
		expect( clean( '<a href="/wiki/A"><a href="javascript:x">B</a></a>' ).map( ( s ) => s.href || null ).filter( Boolean ).every( ( h ) => h.startsWith( 'https:' ) ) ).toBe( true );
	} );

	test( 'sanitiser output is only text and http(s) hrefs', () => {
		const payloads = [
			'<a href="https://ok.example" onclick="alert(1)" style="x" target="_self">x</a>',
			'<<a href="/wiki/Q">q</a>',
			'"><script>alert(document.cookie)</script>',
			'<div><p><span><a href="http://plain.example/">p</a></span></p></div>',
			'&lt;script&gt;alert(1)&lt;/script&gt;',
			...Object.values( BYPASSES )
		];
		for ( const p of payloads ) {
			for ( const s of clean( p ) ) {
				expect( Object.keys( s ).filter( ( k ) => k !== 'text' && k !== 'href' ) ).toEqual( [] );
				expect( s.href === undefined || /^https?:\/\//.test( s.href ), s.href ).toBe( true );
			}
		}
		expect( clean( '&lt;script&gt;alert(1)&lt;/script&gt;' ), 'entities stay text' ).toEqual( [ { text: '<script>alert(1)</script>' } ] );
		expect( clean( '' ) ).toEqual( [] );
		expect( clean( null ) ).toEqual( [] );
	} );

	test( 'sanitiser survives deep nesting', () => {
		const deep = '<span>'.repeat( 1000 ) + 'deep' + '</span>'.repeat( 1000 );
		expect( clean( deep ).map( ( s ) => s.text ).join( '' ) ).toBe( 'deep' );
	} );
} );

test( 'defuse takes handlers and styles out of tags, not out of text', () => {
	const squeeze = ( s ) => s.replace( /\s+>/g, '>' );
	expect( squeeze( defuse( '<img src=x onerror=alert(1)>' ) ) ).toBe( '<img src=x>' );
	expect( squeeze( defuse( '<a href="/wiki/A" onclick="a()" ONMOUSEOVER = \'b()\' style="x">on=1 style=2</a>' ) ) ).toBe( '<a href="/wiki/A">on=1 style=2</a>' );
	expect( defuse( '<svg/onload=alert(1)>' ) ).toBe( '<svg/>' );
	expect( squeeze( defuse( '<a title="a>b" onclick=x>t</a>' ) ) ).toBe( '<a title="a>b">t</a>' );
	expect( defuse( '<STYLE>b{}</STYLE>' ) ).toBe( '<x-style>b{}</x-style>' );
	expect( defuse( 'plain onclick=1 text' ) ).toBe( 'plain onclick=1 text' );
	for ( const p of [ '<img src=x onerror=alert(1)>', '<a href="x" onclick="y"style="z"onmouseover="w">t</a>', '<b o style="" nclick=1>q</b>', '<a x="a"style="b"onclick=1>r</a>' ] ) {
		const doc = new DOMParser().parseFromString( defuse( p ), 'text/html' );
		const attrs = [ ...doc.body.querySelectorAll( '*' ) ].flatMap( ( el ) => [ ...el.attributes ].map( ( a ) => a.name ) );
		expect( attrs.some( ( a ) => /^on|^style$/i.test( a ) ), `${ p } keeps ${ attrs }` ).toBe( false );
	}
} );

test( 'safeHref keeps http(s) and wiki paths only', () => {
	expect( safeHref( '/w/index.php?diff=2&oldid=1', S ) ).toBe( 'https://en.wikipedia.org/w/index.php?diff=2&oldid=1' );
	expect( safeHref( 'http://x.example/', S ) ).toBe( 'http://x.example/' );
	expect( safeHref( 'mailto:a@b', S ) ).toBe( null );
	expect( safeHref( '/wiki/X', 'ftp://x' ) ).toBe( null );
} );

test( 'no component renders HTML from data (no v-html, no innerHTML)', () => {
	const code = sources().join( '\n' );
	expect( /\sv-html\s*=/.test( code ), 'v-html found' ).toBe( false );
	expect( /\.innerHTML\s*=|outerHTML\s*=|insertAdjacentHTML|document\.write/.test( code ), 'HTML assignment found' ).toBe( false );
} );
