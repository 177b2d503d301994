// The threads a person follows (`GET /api/v1/me/follows`), read once a
// session into the unread store's `following` (frames keep it live after).
import { api } from './api.js';

/** The thread names of an answer: a list of names or of `{thread}`, or `{follows|threads: [...]}`. */
export function threadsOf( answer ) {
	const list = Array.isArray( answer ) ? answer : ( answer && ( answer.follows || answer.threads ) ) || [];
	return list.map( ( f ) => ( typeof f === 'string' ? f : f && f.thread ) ).filter( ( x ) => typeof x === 'string' );
}

/** Reads the follows once a session into `unread.following` (threads already known stay). */
export async function loadFollows( unread ) {
	if ( unread.follows.asked ) {
		return;
	}
	unread.follows.asked = true;
	try {
		for ( const thread of threadsOf( await api( 'GET', '/api/v1/me/follows' ) ) ) {
			if ( !( thread in unread.following ) ) {
				unread.following[ thread ] = true;
			}
		}
	} catch {
		unread.follows.asked = false;
	}
}
