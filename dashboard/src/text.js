// Plain helpers without Vue or the DOM, so `npm test` runs them in Node.

/**
 * Splits a message into segments: `{ type: 'text', text }`,
 * `{ type: 'link', text, href }` for http(s) URLs and
 * `{ type: 'mention', text, name }` for `@Name`, found the way the api finds
 * mentions (after a non-alphanumeric character, up to white space or
 * punctuation; underscores read as spaces, first letter upper case).
 * Rendered with text interpolation only.
 *
 * @param {string} text
 * @return {Array<Object>}
 */
export function messageSegments( text ) {
	const out = [];
	if ( typeof text !== 'string' || !text ) {
		return out;
	}
	const urlRe = /https?:\/\/[^\s<>"'\u00a0]+/gi;
	let last = 0;
	let m;
	while ( ( m = urlRe.exec( text ) ) !== null ) {
		let url = m[ 0 ];
		// Punctuation that ends a sentence is not part of the link; nor is
		// a closing bracket that has no opening one in the link.
		while ( /[.,;:!?'")\]}]$/.test( url ) ) {
			const ch = url[ url.length - 1 ];
			const open = { ')': '(', ']': '[', '}': '{' }[ ch ];
			if ( open && url.split( open ).length >= url.split( ch ).length ) {
				break;
			}
			url = url.slice( 0, -1 );
		}
		const start = m.index;
		const before = text.slice( last, start );
		mentions( before, out );
		const href = httpUrl( url );
		if ( href ) {
			out.push( { type: 'link', text: url, href } );
		} else {
			pushText( out, url );
		}
		last = start + url.length;
		urlRe.lastIndex = last;
	}
	mentions( text.slice( last ), out );
	return out;
}

function httpUrl( s ) {
	try {
		const u = new URL( s );
		if ( ( u.protocol === 'http:' || u.protocol === 'https:' ) && !u.username && !u.password ) {
			return u.href;
		}
	} catch {
		// not a URL
	}
	return null;
}

function pushText( out, text ) {
	if ( !text ) {
		return;
	}
	const last = out[ out.length - 1 ];
	if ( last && last.type === 'text' ) {
		last.text += text;
	} else {
		out.push( { type: 'text', text } );
	}
}

const STOP = ',.:;!?()[]{}<>"\'@';

function mentions( text, out ) {
	let i = 0;
	let from = 0;
	while ( ( i = text.indexOf( '@', i ) ) !== -1 ) {
		const prev = i > 0 ? text[ i - 1 ] : '';
		if ( prev && /[\p{L}\p{N}]/u.test( prev ) ) {
			i++;
			continue;
		}
		let end = i + 1;
		while ( end < text.length && !/\s/.test( text[ end ] ) && !STOP.includes( text[ end ] ) ) {
			end++;
		}
		const raw = text.slice( i + 1, end );
		if ( raw && raw.length <= 85 ) {
			pushText( out, text.slice( from, i ) );
			out.push( { type: 'mention', text: '@' + raw, name: userName( raw ) } );
			from = end;
		}
		i = end;
	}
	pushText( out, text.slice( from ) );
}

/**
 * A user name as the wiki spells it: underscores as spaces, first letter
 * upper case.
 *
 * @param {string} raw
 * @return {string}
 */
export function userName( raw ) {
	const s = String( raw ).replace( /_/g, ' ' );
	return s ? s[ 0 ].toUpperCase() + s.slice( 1 ) : s;
}

/**
 * The sort key the api uses for queues (router `queue_score`): priority
 * first, highest first, then age, oldest first; ties by id.
 *
 * @param {Object} item
 * @return {number}
 */
export function queueScore( item ) {
	const p = Math.max( -1e5, Math.min( 1e5, Math.round( ( Number( item.priority ) || 0 ) * 100 ) ) );
	return -p * 1e10 + Math.floor( ( Number( item.created_at ) || 0 ) / 1000 );
}

/**
 * Compares two items in queue order.
 *
 * @param {Object} a
 * @param {Object} b
 * @return {number}
 */
export function compareItems( a, b ) {
	const d = queueScore( a ) - queueScore( b );
	if ( d !== 0 ) {
		return d;
	}
	return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Where `item` goes in `rows` (sorted by compareItems on `row.item`).
 *
 * @param {Array<{item: Object}>} rows
 * @param {Object} item
 * @return {number}
 */
export function insertionIndex( rows, item ) {
	let lo = 0;
	let hi = rows.length;
	while ( lo < hi ) {
		const mid = ( lo + hi ) >> 1;
		if ( compareItems( rows[ mid ].item, item ) <= 0 ) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry):
 * exponential from 1 s, at most 30 s, with ±25 % jitter, never below 1 s.
 *
 * @param {number} attempt
 * @param {Function} [random]
 * @return {number} milliseconds
 */
export function backoff( attempt, random = Math.random ) {
	const base = Math.min( 30000, 1000 * Math.pow( 2, Math.max( 0, attempt ) ) );
	const jittered = base * ( 0.75 + random() * 0.5 );
	return Math.round( Math.max( 1000, Math.min( 30000, jittered ) ) );
}

/**
 * The first `count` rows a virtual list renders, from its scroll position.
 *
 * @param {number} scrollTop
 * @param {number} viewport height of the visible area
 * @param {number} rowHeight
 * @param {number} total rows
 * @param {number} overscan rows rendered beyond each edge
 * @return {{start: number, end: number}} rows [start, end)
 */
export function visibleRange( scrollTop, viewport, rowHeight, total, overscan ) {
	const first = Math.floor( Math.max( 0, scrollTop ) / rowHeight );
	const count = Math.ceil( Math.max( 0, viewport ) / rowHeight ) + 1;
	const start = Math.max( 0, first - overscan );
	const end = Math.min( total, first + count + overscan );
	return { start, end: Math.max( start, end ) };
}

/**
 * Minutes and seconds left, `m:ss`, never negative.
 *
 * @param {number} ms
 * @return {string}
 */
export function clock( ms ) {
	const s = Math.max( 0, Math.ceil( ms / 1000 ) );
	const m = Math.floor( s / 60 );
	return m + ':' + String( s % 60 ).padStart( 2, '0' );
}

/**
 * The links of an item on its wiki.
 *
 * @param {Object} item
 * @return {{page: string|null, history: string|null}}
 */
export function pageLinks( item ) {
	const base = serverOf( item );
	if ( !base || typeof item.title !== 'string' ) {
		return { page: null, history: null };
	}
	const title = encodeTitle( item.title );
	return {
		page: `${ base }/wiki/${ title }`,
		history: `${ base }/w/index.php?title=${ title }&action=history`
	};
}

/**
 * The diff link of a revision, when it has ids.
 *
 * @param {Object} item
 * @param {Object} rev
 * @return {string|null}
 */
export function diffLink( item, rev ) {
	const base = serverOf( item );
	if ( !base || !Number.isSafeInteger( rev.rev_id ) ) {
		return null;
	}
	if ( Number.isSafeInteger( rev.old_rev_id ) && rev.old_rev_id > 0 ) {
		return `${ base }/w/index.php?diff=${ rev.rev_id }&oldid=${ rev.old_rev_id }`;
	}
	return `${ base }/w/index.php?oldid=${ rev.rev_id }`;
}

/**
 * A user's contributions on the item's wiki.
 *
 * @param {Object} item
 * @return {string|null}
 */
export function contribsLink( item ) {
	const base = serverOf( item );
	if ( !base || typeof item.user !== 'string' ) {
		return null;
	}
	return `${ base }/wiki/Special:Contributions/${ encodeTitle( item.user ) }`;
}

function serverOf( item ) {
	if ( !item || typeof item.server_url !== 'string' ) {
		return null;
	}
	try {
		const u = new URL( item.server_url );
		if ( u.protocol !== 'http:' && u.protocol !== 'https:' ) {
			return null;
		}
		return u.origin;
	} catch {
		return null;
	}
}

/**
 * A page title as a URL path segment, as MediaWiki writes it.
 *
 * @param {string} title
 * @return {string}
 */
export function encodeTitle( title ) {
	return encodeURIComponent( title.replace( / /g, '_' ) )
		.replace( /%3A/gi, ':' )
		.replace( /%2F/gi, '/' );
}
