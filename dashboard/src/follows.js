// The threads a person follows (`GET /api/v1/me/follows`), read once a
// session into the unread store's `following` (frames keep it live after),
// and again after the person took part somewhere the server then follows
// for them (posting, claiming, a conversation started or joined: the
// unread store's `follows.asked` goes back to false), unless they
// unfollowed it, which only the server knows for threads not seen here.
import { api } from './api.js';

/** The thread names of an answer: a list of names or of `{thread}`, or `{follows|threads: [...]}`. */
export function threadsOf( answer ) {
	const list = Array.isArray( answer ) ? answer : ( answer && ( answer.follows || answer.threads ) ) || [];
	return list.map( ( f ) => ( typeof f === 'string' ? f : f && f.thread ) ).filter( ( x ) => typeof x === 'string' );
}

/**
 * Reads the follows into `unread.following` unless asked already (threads
 * already known stay); a failed read leaves `asked` null, for the next
 * follow button to ask again.
 */
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
		unread.follows.asked = null;
	}
}
