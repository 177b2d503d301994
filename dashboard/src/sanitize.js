// Wiki HTML, made safe with DOMPurify: one allow-list per kind of HTML.
// (Diffs have a stricter sanitiser of their own, diffSanitize.js, that
// rebuilds them from an allow-list instead of filtering them.)
//
// The HTML is untrusted (a `parsedcomment` carries whatever a vandal typed
// into an edit summary, as the wiki rendered it). DOMPurify parses it into
// an inert document (no scripts run, nothing loads) and keeps only what the
// kind's configuration in `PROFILES` allows:
//
//   summary  text and `<a href>` whose href is http(s) or a path on the
//            item's wiki (made absolute with its server URL); every kept
//            link gets rel="noopener noreferrer nofollow" and no target
//            (links open in a new tab from a click handler, openExternal).
//
// A hook on every kind removes any URL attribute (href, src, action,
// formaction, xlink:href, srcset) that is not http(s) or a wiki path.
// The result is a DOM fragment of the inert document. For a summary,
// `sanitizeComment` turns it into plain data (`{ text }` and
// `{ text, href }` segments) that CommentText.vue renders with text
// interpolation and `<a :href>`; nothing is ever assigned to innerHTML.

import createDOMPurify from 'dompurify';
import { LINK_REL } from './links.js';
import { defuse } from './defuse.js';

export { defuse };

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

/** Longest input looked at (edit summaries are at most 500 characters). */
const MAX_HTML = 20000;

/** Attributes that hold a URL; the hook lets only http(s) ones through. */
const URL_ATTRS = new Set( [ 'href', 'src', 'action', 'formaction', 'xlink:href', 'srcset' ] );

/**
 * The DOMPurify configuration of each kind of wiki HTML. What is not named
 * here is removed; the text of a removed element stays, except inside
 * elements whose content is not text (script, style, svg, math, form, ...).
 */
export const PROFILES = Object.freeze( {
	summary: Object.freeze( {
		ALLOWED_TAGS: [ 'a' ],
		ALLOWED_ATTR: [ 'href' ],
		ALLOW_DATA_ATTR: false,
		ALLOW_ARIA_ATTR: false,
		ADD_FORBID_CONTENTS: [
			'frame', 'frameset', 'object', 'embed', 'applet', 'textarea', 'select',
			'option', 'link', 'meta', 'base', 'img', 'picture', 'source', 'track',
			'canvas', 'input', 'button', 'form', 'x-style'
		]
	} )
} );

/** The kind being sanitised and its wiki's server URL, during a call. */
let active = null;
let purifier = null;

/**
 * `srcset` is a list of `url [descriptor]` candidates: all must be safe.
 *
 * @param {string} value
 * @param {string} serverUrl
 * @return {boolean}
 */
function safeSrcset( value, serverUrl ) {
	const urls = value.split( ',' ).map( ( c ) => c.trim().split( /\s+/ )[ 0 ] );
	return urls.every( ( u ) => safeHref( u, serverUrl ) !== null );
}

/** DOMPurify's uponSanitizeAttribute hook, for every kind. */
function checkAttribute( _node, data ) {
	const name = data.attrName;
	if ( URL_ATTRS.has( name ) ) {
		const server = active && active.serverUrl;
		if ( name === 'srcset' ) {
			data.keepAttr = safeSrcset( data.attrValue, server );
			return;
		}
		const href = safeHref( data.attrValue, server );
		if ( href === null ) {
			data.keepAttr = false;
		} else {
			data.attrValue = href;
		}
	}
}

/** DOMPurify's afterSanitizeAttributes hook: what every kept link carries. */
function markLinks( node ) {
	if ( node.localName === 'a' && node.hasAttribute( 'href' ) ) {
		node.setAttribute( 'rel', LINK_REL );
	}
}

function getPurifier() {
	if ( !purifier ) {
		purifier = createDOMPurify( window );
		purifier.addHook( 'uponSanitizeAttribute', checkAttribute );
		purifier.addHook( 'afterSanitizeAttributes', markLinks );
	}
	return purifier;
}

/**
 * Wiki HTML of one kind, sanitised: a DocumentFragment of an inert
 * document holding only what `PROFILES[kind]` allows.
 *
 * @param {string} html
 * @param {'summary'} kind
 * @param {string} [serverUrl] the wiki's server URL, for its paths
 * @return {DocumentFragment}
 */
export function sanitizeHtml( html, kind, serverUrl ) {
	const profile = PROFILES[ kind ];
	if ( !profile ) {
		throw new Error( `no sanitiser profile ${ kind }` );
	}
	const purify = getPurifier();
	active = { kind, serverUrl };
	try {
		return purify.sanitize( String( html ), { ...profile, RETURN_DOM_FRAGMENT: true } );
	} finally {
		active = null;
	}
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
 * Segments of a `parsedcomment`: `{ text }` or `{ text, href }`, where
 * `href` is a safe absolute http(s) URL. Links open in a new tab with
 * `rel="noopener noreferrer nofollow"` (see CommentText.vue).
 *
 * @param {string} html the wiki's parsedcomment
 * @param {string} serverUrl the item's server URL, for wiki paths
 * @return {Array<{text: string, href?: string}>}
 */
export function sanitizeComment( html, serverUrl ) {
	if ( typeof html !== 'string' || html === '' ) {
		return [];
	}
	const clean = sanitizeHtml( defuse( html.slice( 0, MAX_HTML ) ), 'summary', serverUrl );
	const out = [];
	for ( const node of clean.childNodes ) {
		if ( node.nodeType === 3 ) {
			push( out, node.data );
		} else if ( node.nodeType === 1 ) {
			const text = node.textContent;
			const href = node.localName === 'a' ? node.getAttribute( 'href' ) : null;
			if ( href && /^https?:\/\//i.test( href ) && text.trim() ) {
				out.push( { text, href } );
			} else {
				push( out, text );
			}
		}
	}
	// Collapse runs of white space as HTML would; keep the segments.
	for ( const seg of out ) {
		seg.text = seg.text.replace( /\s+/g, ' ' );
	}
	return out.filter( ( seg ) => seg.text !== '' );
}
