// The wiki's `parsedcomment` HTML, reduced to text and links.
//
// The HTML is untrusted (it carries whatever a vandal typed into an edit
// summary, as the wiki rendered it). It is parsed into an inert document
// (DOMParser: no scripts run, nothing loads), walked, and turned into plain
// data: a list of segments `{ text }` and `{ text, href }`. Components render
// them with Vue text interpolation and `<a :href>` only; nothing is ever
// assigned to innerHTML. Kept: text, and `<a>` whose href is http(s) or a
// path on the item's wiki (made absolute with its server URL). Dropped:
// every other element (its text is kept, except for elements whose content
// is not text, such as script and style), every attribute, every other URL.

/** Elements whose content is dropped along with them. */
const DROP = new Set( [
	'script', 'style', 'template', 'noscript', 'iframe', 'frame', 'frameset',
	'object', 'embed', 'applet', 'svg', 'math', 'textarea', 'select', 'option',
	'title', 'head', 'link', 'meta', 'base', 'img', 'picture', 'video', 'audio',
	'source', 'track', 'canvas', 'input', 'button', 'form', 'x-style'
] );

/** Nesting deeper than this is read as plain text. */
const MAX_DEPTH = 64;
/** Longest input looked at (edit summaries are at most 500 characters). */
const MAX_HTML = 20000;

/**
 * The origin of a wiki server URL, when it is http(s); otherwise null.
 *
 * @param {string} serverUrl
 * @return {URL|null}
 */
export function wikiBase( serverUrl ) {
	if ( typeof serverUrl !== 'string' ) {
		return null;
	}
	try {
		const u = new URL( serverUrl );
		if ( ( u.protocol !== 'http:' && u.protocol !== 'https:' ) || u.username || u.password ) {
			return null;
		}
		return new URL( u.origin + '/' );
	} catch {
		return null;
	}
}

/**
 * A safe absolute link for an href found in wiki HTML, or null.
 *
 * Absolute http(s) URLs are kept; protocol-relative ones get https; paths
 * (`/wiki/...`, `/w/index.php?...`) are made absolute on the item's wiki.
 * Anything else (javascript:, data:, relative paths, fragments, URLs with
 * credentials) is refused.
 *
 * @param {string|null} raw
 * @param {string} serverUrl
 * @return {string|null}
 */
export function safeHref( raw, serverUrl ) {
	if ( typeof raw !== 'string' ) {
		return null;
	}
	const s = raw.trim();
	if ( !s || s.length > 2000 ) {
		return null;
	}
	let u;
	try {
		if ( /^[a-z][a-z0-9+.-]*:/i.test( s ) ) {
			u = new URL( s );
		} else if ( s.startsWith( '//' ) ) {
			u = new URL( 'https:' + s );
		} else if ( s.startsWith( '/' ) && s[ 1 ] !== '\\' ) {
			const base = wikiBase( serverUrl );
			if ( !base ) {
				return null;
			}
			u = new URL( s, base );
			if ( u.origin !== base.origin ) {
				return null;
			}
		} else {
			return null;
		}
	} catch {
		return null;
	}
	if ( u.protocol !== 'http:' && u.protocol !== 'https:' ) {
		return null;
	}
	if ( u.username || u.password ) {
		return null;
	}
	return u.href;
}

function push( out, text ) {
	if ( !text ) {
		return;
	}
	const last = out[ out.length - 1 ];
	if ( last && last.href === undefined ) {
		last.text += text;
	} else {
		out.push( { text } );
	}
}

/**
 * The visible text of a node, with dropped elements left out. Iterative,
 * so that no nesting depth can exhaust the stack.
 */
function textOf( node ) {
	let s = '';
	const stack = [ node ];
	while ( stack.length ) {
		const n = stack.pop();
		if ( typeof n === 'string' ) {
			s += n;
			continue;
		}
		const kids = n.childNodes;
		for ( let i = kids.length - 1; i >= 0; i-- ) {
			const child = kids[ i ];
			if ( child.nodeType === 3 ) {
				stack.push( child.data );
			} else if ( child.nodeType === 1 ) {
				const tag = ( child.localName || '' ).toLowerCase();
				if ( tag === 'br' ) {
					stack.push( ' ' );
				} else if ( !DROP.has( tag ) ) {
					stack.push( child );
				}
			}
		}
	}
	return s;
}

function walk( node, serverUrl, out, depth ) {
	for ( const child of node.childNodes ) {
		if ( child.nodeType === 3 ) {
			push( out, child.data );
			continue;
		}
		if ( child.nodeType !== 1 ) {
			continue;
		}
		const tag = ( child.localName || '' ).toLowerCase();
		if ( DROP.has( tag ) ) {
			continue;
		}
		if ( tag === 'br' ) {
			push( out, ' ' );
		} else if ( tag === 'a' ) {
			const text = textOf( child );
			const href = safeHref( child.getAttribute( 'href' ), serverUrl );
			if ( href && text.trim() ) {
				out.push( { text, href } );
			} else {
				push( out, text );
			}
		} else if ( depth >= MAX_DEPTH ) {
			push( out, textOf( child ) );
		} else {
			walk( child, serverUrl, out, depth + 1 );
		}
	}
}

/** A start or end tag, its quoted values allowed to hold `>`. */
const TAG_RE = /<\/?[a-zA-Z][^\s/>]*(?:"[^"]*"|'[^']*'|[^>"'])*>?/g;
/** Event handler and style attributes inside a tag. */
const ATTR_RE = /([\s/"'])(?:on[^\s/>="']*|style)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']*))?/gi;

/**
 * Takes event handler and style attributes out of tags, and renames
 * `<style>` elements, before the browser parses the HTML. This is not what
 * makes the result safe (the walk keeps no attribute but a checked href):
 * it keeps the page's Content-Security-Policy from reporting violations for
 * handlers and styles that an inert document would never run anyway.
 *
 * @param {string} html
 * @return {string}
 */
export function defuse( html ) {
	return html
		.replace( /<(\/?)style(?=[\s/>])/gi, '<$1x-style' )
		.replace( TAG_RE, ( tag ) => {
			let out = tag;
			for ( let i = 0; i < 4; i++ ) {
				const next = out.replace( ATTR_RE, '$1' );
				if ( next === out ) {
					break;
				}
				out = next;
			}
			return out;
		} );
}

/**
 * Parses untrusted HTML into an inert document's body.
 *
 * @param {string} html
 * @param {Function} [DOMParserImpl] a DOMParser class (tests pass jsdom's)
 * @return {Element}
 */
function parse( html, DOMParserImpl ) {
	const Impl = DOMParserImpl || globalThis.DOMParser;
	const doc = new Impl().parseFromString( html, 'text/html' );
	return doc.body;
}

/**
 * Segments of a `parsedcomment`: `{ text }` or `{ text, href }`, where
 * `href` is a safe absolute http(s) URL. Links open in a new tab with
 * `rel="noopener noreferrer nofollow"` (see CommentText.vue).
 *
 * @param {string} html the wiki's parsedcomment
 * @param {string} serverUrl the item's server URL, for wiki paths
 * @param {Function} [DOMParserImpl]
 * @return {Array<{text: string, href?: string}>}
 */
export function sanitizeComment( html, serverUrl, DOMParserImpl ) {
	if ( typeof html !== 'string' || html === '' ) {
		return [];
	}
	const body = parse( defuse( html.slice( 0, MAX_HTML ) ), DOMParserImpl );
	const out = [];
	if ( body ) {
		walk( body, serverUrl, out, 0 );
	}
	// Collapse runs of white space as HTML would; keep the segments.
	for ( const seg of out ) {
		seg.text = seg.text.replace( /\s+/g, ' ' );
	}
	return out.filter( ( seg ) => seg.text !== '' );
}

/** What every link out of the page carries. */
export const LINK_REL = 'noopener noreferrer nofollow';

/**
 * Opens an external link in a new tab, without the page keeping a handle
 * on it (noopener, noreferrer). Used as the click handler of links to the
 * wiki and to URLs from people, so that those links carry only `href` and
 * `rel`; modified clicks (new window, download) keep the browser's ways.
 *
 * @param {MouseEvent} e
 */
export function openExternal( e ) {
	if ( e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey ) {
		return;
	}
	const a = e.currentTarget;
	if ( !a || !a.href ) {
		return;
	}
	e.preventDefault();
	window.open( a.href, '_blank', 'noopener,noreferrer' );
}
