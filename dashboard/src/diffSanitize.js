// MediaWiki diffs, made safe by rebuilding them.
//
// The rows of a diff (`action=compare`'s body: `<tr>` rows of four cells,
// marker and content on each side) are untrusted HTML: whatever a vandal
// wrote is in them, as the wiki escaped it, and whatever reaches us on the
// way. Nothing of that HTML is ever put into the page. It is parsed with
// DOMParser (an inert document: no script runs, nothing loads), read into
// rows of classified cells, and the layouts are built anew with
// createElement and text nodes from this allow-list alone:
//
//   - elements: table, tbody, tr, td (built here, from the rows), and in a
//     cell's content ins, del, div and span;
//   - attributes: `class`, with the tokens of DIFF_CLASSES only; `colspan`
//     is set by the builders where the layout needs it, never copied;
//   - script, style, iframe, object, embed, svg, math, template, noscript
//     (and their kin in DROP) go with everything inside them; any other
//     element is unwrapped to its cleaned content (its text); comments go.
//
// No style, URL, event handler or `data-*` attribute survives: none is
// ever read. The marker of a line (− or +) comes from the class of its
// cell, not from MediaWiki's `data-marker`.
//
// The two layouts are built from the same rows: side by side (the table
// as MediaWiki gives it: old on the start side, new on the end side) and
// inline (context once; in each run of changed lines, the removed lines
// and then the added ones, each marked).

import { defuse } from './defuse.js';

/** Longest diff HTML looked at, in characters. */
export const MAX_HTML = 2000000;
/** Most rows shown; a longer diff is cut (`truncated`). */
export const MAX_ROWS = 5000;
/** Deepest nesting rebuilt inside a cell; deeper content becomes text. */
const MAX_DEPTH = 24;

const HTML_NS = 'http://www.w3.org/1999/xhtml';

/** Elements a cell's content may keep. */
const INLINE = new Set( [ 'ins', 'del', 'div', 'span' ] );

/** Elements dropped with everything inside them. */
const DROP = new Set( [
	'script', 'style', 'x-style', 'iframe', 'object', 'embed', 'svg', 'math', 'template', 'noscript',
	'noembed', 'noframes', 'frame', 'frameset', 'applet'
] );

/** The class tokens kept from MediaWiki's diff HTML. */
export const DIFF_CLASSES = new Set( [
	'diff-marker', 'diff-deletedline', 'diff-addedline', 'diff-context', 'diff-empty', 'diff-lineno',
	'diffchange', 'diffchange-inline', 'diff-side-deleted', 'diff-side-added',
	'mw-diff-inline-added', 'mw-diff-inline-deleted', 'mw-diff-inline-changed', 'mw-diff-inline-moved',
	'mw-diff-movedpara-left', 'mw-diff-movedpara-right'
] );

/** The marker of each kind of line (U+2212 MINUS SIGN for removed lines). */
const MARKERS = { deleted: '\u2212', added: '+', context: '' };
/** The content cell class of each kind of line. */
const LINE_CLASS = { deleted: 'diff-deletedline', added: 'diff-addedline', context: 'diff-context' };

/**
 * The kept class tokens of an element (of the parsed document), in order,
 * without repeats.
 *
 * @param {Element} el
 * @return {string[]}
 */
function classesOf( el ) {
	const raw = el.getAttribute( 'class' );
	if ( !raw ) {
		return [];
	}
	return [ ...new Set( raw.split( /[\t\n\f\r ]+/ ).filter( ( c ) => DIFF_CLASSES.has( c ) ) ) ];
}

/** Whether an element of the parsed document goes with its content. */
function dropped( el ) {
	return el.namespaceURI !== HTML_NS || DROP.has( el.localName );
}

/**
 * The text of `node`, without that of dropped elements; iterative, for
 * content nested too deep to rebuild.
 *
 * @param {Node} node
 * @return {string}
 */
function textOf( node ) {
	let out = '';
	const stack = [ node ];
	while ( stack.length ) {
		const n = stack.pop();
		if ( n.nodeType === 3 ) {
			out += n.data;
		} else if ( n.nodeType === 1 && n !== node && dropped( n ) ) {
			continue;
		} else if ( n.nodeType === 1 || n.nodeType === 11 ) {
			for ( let c = n.lastChild; c; c = c.previousSibling ) {
				stack.push( c );
			}
		}
	}
	return out;
}

/**
 * Appends the clean content of `from` (a node of the parsed document) to
 * `into` (a node of `doc`).
 *
 * @param {Node} into
 * @param {Node} from
 * @param {Document} doc
 * @param {number} depth
 */
function cleanInto( into, from, doc, depth ) {
	for ( let c = from.firstChild; c; c = c.nextSibling ) {
		if ( c.nodeType === 3 ) {
			if ( c.data ) {
				into.appendChild( doc.createTextNode( c.data ) );
			}
			continue;
		}
		if ( c.nodeType !== 1 || dropped( c ) ) {
			continue; // comments, processing instructions, dropped elements
		}
		if ( depth >= MAX_DEPTH ) {
			const text = textOf( c );
			if ( text ) {
				into.appendChild( doc.createTextNode( text ) );
			}
		} else if ( INLINE.has( c.localName ) ) {
			const el = doc.createElement( c.localName );
			const cls = classesOf( c );
			if ( cls.length ) {
				el.className = cls.join( ' ' );
			}
			cleanInto( el, c, doc, depth + 1 );
			into.appendChild( el );
		} else {
			// Unwrapped: its (cleaned) content stays, the element goes.
			cleanInto( into, c, doc, depth + 1 );
		}
	}
}

/**
 * A cell of the parsed document as `{classes, content}`: its kept classes,
 * and its content rebuilt in `doc` (a DocumentFragment).
 */
function readCell( td, doc ) {
	const content = doc.createDocumentFragment();
	cleanInto( content, td, doc, 0 );
	return { classes: classesOf( td ), content };
}

/** What a content cell holds, from its classes. */
function kindOf( cell ) {
	const c = cell.classes;
	if ( c.includes( 'diff-deletedline' ) ) {
		return 'deleted';
	}
	if ( c.includes( 'diff-addedline' ) ) {
		return 'added';
	}
	if ( c.includes( 'diff-empty' ) ) {
		return 'empty';
	}
	if ( c.includes( 'diff-context' ) ) {
		return 'context';
	}
	return null;
}

/** The side a content cell belongs on, when its classes say. */
function sideOf( cell, kind ) {
	if ( cell.classes.includes( 'diff-side-deleted' ) ) {
		return 'left';
	}
	if ( cell.classes.includes( 'diff-side-added' ) ) {
		return 'right';
	}
	return kind === 'deleted' ? 'left' : kind === 'added' ? 'right' : null;
}

/**
 * One row of the parsed document, classified:
 *   {type: 'lineno', left, right}   line numbers (cells or null)
 *   {type: 'line', left, right}     each side `{kind, cell}`, kind one of
 *                                   deleted, added, context, empty
 *   {type: 'note', cell}            a row of cells none of whose classes
 *                                   say what they hold: their text, once
 * or null for a row with nothing to show.
 */
function readRow( tr, doc ) {
	const tds = [];
	for ( let c = tr.firstElementChild; c; c = c.nextElementSibling ) {
		if ( c.namespaceURI === HTML_NS && ( c.localName === 'td' || c.localName === 'th' ) ) {
			tds.push( c );
		}
	}
	const cells = tds.map( ( td ) => readCell( td, doc ) );
	const linenos = cells.filter( ( c ) => c.classes.includes( 'diff-lineno' ) );
	if ( linenos.length ) {
		return { type: 'lineno', left: linenos[ 0 ] || null, right: linenos[ 1 ] || null };
	}
	// Marker cells are left out: the marker comes from the line's class.
	const content = cells.filter( ( c ) => !c.classes.includes( 'diff-marker' ) );
	const kinds = content.map( kindOf );
	if ( kinds.every( ( k ) => k === null ) ) {
		const note = doc.createDocumentFragment();
		for ( const c of content ) {
			if ( note.childNodes.length ) {
				note.appendChild( doc.createTextNode( ' ' ) );
			}
			note.appendChild( c.content );
		}
		return note.textContent.trim() ? { type: 'note', cell: { classes: [], content: note } } : null;
	}
	const sides = { left: null, right: null };
	const unplaced = [];
	content.forEach( ( cell, i ) => {
		const kind = kinds[ i ] || 'context';
		const side = sideOf( cell, kind );
		if ( side && !sides[ side ] ) {
			sides[ side ] = { kind, cell };
		} else {
			unplaced.push( { kind, cell } );
		}
	} );
	for ( const s of unplaced ) {
		if ( !sides.left ) {
			sides.left = s;
		} else if ( !sides.right ) {
			sides.right = s;
		}
	}
	const empty = { kind: 'empty', cell: null };
	return { type: 'line', left: sides.left || empty, right: sides.right || empty };
}

/**
 * Whether a row of the parsed document is one of the diff's: not inside a
 * cell (a table nested in a cell is that cell's content) nor inside a
 * dropped element (noscript content is parsed as markup in an inert
 * document).
 */
function topLevel( tr, body ) {
	for ( let a = tr.parentElement; a && a !== body; a = a.parentElement ) {
		if ( a.localName === 'td' || a.localName === 'th' || dropped( a ) ) {
			return false;
		}
	}
	return true;
}

/**
 * The rows of MediaWiki diff HTML (bare `<tr>` rows, or a whole diff
 * table), classified and with their cells' content rebuilt in `doc`.
 *
 * @param {string} html untrusted
 * @param {Document} [doc] where the clean nodes are made
 * @return {{rows: Array<Object>, truncated: boolean}}
 */
export function parseDiff( html, doc = document ) {
	let s = typeof html === 'string' ? html : '';
	let truncated = false;
	if ( s.length > MAX_HTML ) {
		s = s.slice( 0, MAX_HTML );
		truncated = true;
	}
	s = defuse( s );
	// Bare rows need a table around them to be parsed as rows.
	const source = /^\s*<table[\s>]/i.test( s ) ? s : `<table><tbody>${ s }</tbody></table>`;
	const parsed = new DOMParser().parseFromString( source, 'text/html' );
	const rows = [];
	for ( const tr of parsed.body.getElementsByTagName( 'tr' ) ) {
		if ( tr.namespaceURI !== HTML_NS || !topLevel( tr, parsed.body ) ) {
			continue;
		}
		if ( rows.length >= MAX_ROWS ) {
			truncated = true;
			break;
		}
		const row = readRow( tr, doc );
		if ( row ) {
			rows.push( row );
		}
	}
	return { rows, truncated };
}

/** A `<td>` of `doc` with `classes`, `colspan` when over 1, and `content` (cloned). */
function td( doc, classes, content, colspan = 1 ) {
	const el = doc.createElement( 'td' );
	if ( classes.length ) {
		el.className = classes.join( ' ' );
	}
	if ( colspan > 1 ) {
		el.colSpan = colspan;
	}
	if ( typeof content === 'string' ) {
		el.textContent = content;
	} else if ( content ) {
		el.appendChild( content.cloneNode( true ) );
	}
	return el;
}

/** A table of `doc` for the rows built by `fill`. */
function table( doc, layout, fill ) {
	const t = doc.createElement( 'table' );
	t.className = `pc-diff-table pc-diff-table--${ layout }`;
	const body = doc.createElement( 'tbody' );
	fill( ( ...cells ) => {
		const tr = doc.createElement( 'tr' );
		for ( const c of cells ) {
			tr.appendChild( c );
		}
		body.appendChild( tr );
	} );
	t.appendChild( body );
	return t;
}

/** The marker and content cells of one side of a line, side by side. */
function sideCells( doc, side, where ) {
	const sideClass = where === 'left' ? 'diff-side-deleted' : 'diff-side-added';
	if ( side.kind === 'empty' || !side.cell ) {
		return [ td( doc, [ 'diff-empty', sideClass ], null, 2 ) ];
	}
	return [
		td( doc, [ 'diff-marker' ], MARKERS[ side.kind ] ),
		td( doc, [ LINE_CLASS[ side.kind ], sideClass ], side.cell.content )
	];
}

/**
 * The rows side by side: a four-column table (marker and content, old on
 * the start side, new on the end side), as MediaWiki lays a diff out.
 *
 * @param {Array<Object>} rows from parseDiff
 * @param {Document} [doc]
 * @return {HTMLTableElement}
 */
export function buildSideBySide( rows, doc = document ) {
	return table( doc, 'side', ( add ) => {
		for ( const r of rows ) {
			if ( r.type === 'lineno' ) {
				add(
					td( doc, [ 'diff-lineno' ], r.left && r.left.content, 2 ),
					td( doc, [ 'diff-lineno' ], r.right && r.right.content, 2 )
				);
			} else if ( r.type === 'note' ) {
				add( td( doc, [ 'diff-context' ], r.cell.content, 4 ) );
			} else {
				add( ...sideCells( doc, r.left, 'left' ), ...sideCells( doc, r.right, 'right' ) );
			}
		}
	} );
}

/**
 * The rows inline: a two-column table (marker, content). Context shows
 * once (its old side); each run of changed rows shows its removed lines,
 * then its added lines.
 *
 * @param {Array<Object>} rows from parseDiff
 * @param {Document} [doc]
 * @return {HTMLTableElement}
 */
export function buildInline( rows, doc = document ) {
	return table( doc, 'inline', ( add ) => {
		const line = ( kind, cell ) => add(
			td( doc, [ 'diff-marker' ], MARKERS[ kind ] ),
			td( doc, [ LINE_CLASS[ kind ] ], cell.content )
		);
		let removed = [];
		let added = [];
		const flush = () => {
			for ( const c of removed ) {
				line( 'deleted', c );
			}
			for ( const c of added ) {
				line( 'added', c );
			}
			removed = [];
			added = [];
		};
		for ( const r of rows ) {
			const changed = r.type === 'line' && ( r.left.kind === 'deleted' || r.right.kind === 'added' );
			if ( changed ) {
				if ( r.left.kind === 'deleted' ) {
					removed.push( r.left.cell );
				}
				if ( r.right.kind === 'added' ) {
					added.push( r.right.cell );
				}
				continue;
			}
			flush();
			if ( r.type === 'lineno' ) {
				const n = r.left || r.right;
				add( td( doc, [ 'diff-lineno' ], n && n.content, 2 ) );
			} else if ( r.type === 'note' ) {
				add( td( doc, [ 'diff-context' ], r.cell.content, 2 ) );
			} else {
				const side = r.left.kind === 'context' ? r.left : r.right.kind === 'context' ? r.right : null;
				if ( side ) {
					line( 'context', side.cell );
				}
			}
		}
		flush();
	} );
}
