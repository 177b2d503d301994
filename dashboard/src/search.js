// Search (`GET /api/v1/search`): the query language's operators as the
// results view lists them, a result's snippet as parts to render (text,
// and the words that matched as `<mark>`, never HTML), and where a result
// leads, and why a query cannot be read.

import { t, hasMessage } from './i18n.js';

/** The operators of the query language: what to type, and the message that says what it does. */
export const OPERATORS = [
	[ '"…"', 'patrolchat-search-op-phrase' ],
	[ 'from:Name', 'patrolchat-search-op-from' ],
	[ 'wiki:enwiki', 'patrolchat-search-op-wiki' ],
	[ 'in:workflow', 'patrolchat-search-op-in' ],
	[ 'item:ID', 'patrolchat-search-op-item' ],
	[ 'before:YYYY-MM-DD', 'patrolchat-search-op-before' ],
	[ 'after:YYYY-MM-DD', 'patrolchat-search-op-after' ],
	[ 'has:link', 'patrolchat-search-op-has-link' ]
];

/**
 * A snippet as parts: `[{text, hit}]`, text always a string; anything
 * else in the answer is dropped.
 *
 * @param {any} snippet
 * @return {{text: string, hit: boolean}[]}
 */
export function snippetParts( snippet ) {
	if ( !Array.isArray( snippet ) ) {
		return [];
	}
	return snippet
		.filter( ( s ) => s && typeof s.text === 'string' && s.text !== '' )
		.map( ( s ) => ( { text: s.text, hit: s.hit === true } ) );
}

/**
 * Where a result leads: its message in its thread (`{message, thread,
 * ...}` for `openMessage`), an item, or a person's messages (`{search}`).
 *
 * @param {Object} r a result
 */
export function targetOf( r ) {
	if ( r.thread ) {
		return {
			thread: r.thread,
			item: r.item || null,
			workflow: r.workflow || null,
			message: r.kind === 'message' ? r.id : null
		};
	}
	if ( r.item || r.kind === 'item' ) {
		return { thread: null, item: r.item || r.id, workflow: r.workflow || null, message: null };
	}
	if ( r.kind === 'user' ) {
		const name = r.author || r.title || r.id;
		return { search: /\s/.test( name ) ? `from:"${ name }"` : `from:${ name }` };
	}
	return null;
}

/**
 * Why a search cannot be read, in the person's language: the api's
 * `reason` (and `detail`) of a `bad_query`; its English only for a reason
 * this page does not know.
 */
export function badQueryReason( e ) {
	const err = ( e && e.body && e.body.error ) || {};
	const key = `patrolchat-search-bad-${ String( err.reason || '' ).replace( /_/g, '-' ) }`;
	return err.reason && hasMessage( key ) ? t( key, String( err.detail || '' ) ) : String( err.message || ( e && e.message ) || '' );
}
