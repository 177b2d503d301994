// Links out of the page (to the wiki, and URLs people post): what they
// carry and how they open. Apart from the sanitiser, so that what shows
// chat does not load DOMPurify.

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

/**
 * An https URL from the server (a community's code of conduct) as a link
 * target, or null: anything but https, or with a user name or password in
 * it, is not linked.
 *
 * @param {any} url
 * @return {string|null}
 */
export function httpsUrl( url ) {
	if ( typeof url !== 'string' ) {
		return null;
	}
	let u;
	try {
		u = new URL( url.trim() );
	} catch {
		return null;
	}
	return u.protocol === 'https:' && u.hostname && !u.username && !u.password ? u.href : null;
}
