// A pass over untrusted HTML before the browser parses it, shared by the
// sanitisers (sanitize.js, diffSanitize.js). It is not what makes their
// output safe (their allow-lists are): it keeps the page's
// Content-Security-Policy from reporting violations for event handlers and
// style attributes that an inert document would never run anyway.

/** A start or end tag, its quoted values allowed to hold `>`. */
const TAG_RE = /<\/?[a-zA-Z][^\s/>]*(?:"[^"]*"|'[^']*'|[^>"'])*>?/g;
/** Event handler and style attributes inside a tag. */
const ATTR_RE = /([\s/"'])(?:on[^\s/>="']*|style)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']*))?/gi;

/**
 * Takes event handler and style attributes out of tags, and renames
 * `<style>` elements to `<x-style>`, before the browser parses the HTML.
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
