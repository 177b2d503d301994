// Unread: the inbox's count (the header's badge) and the unread messages
// of each followed thread, room and conversation (`GET /api/v1/me/unread`),
// kept live by the person's frames (`inbox.new`, `inbox.read`, `follow`,
// `conversation.new`) and by `message.new`; and the read marks the page
// sends as threads are read (readMarks.js).

import { defineStore } from 'pinia';
import { reactive } from 'vue';
import { api, seg } from '../api.js';
import { readMarker } from '../readMarks.js';
import { loadViewMessages, t } from '../i18n.js';

const MAPS = [ 'threads', 'rooms', 'conversations' ];

/** Which map of `/me/unread` holds a thread, and under which key. */
export function slotOf( thread ) {
	const s = String( thread || '' );
	if ( s.startsWith( 'dm-' ) ) {
		return [ 'conversations', s.slice( 3 ) ];
	}
	return [ s.startsWith( 'room-' ) ? 'rooms' : 'threads', s ];
}

export const useUnreadStore = defineStore( 'unread', () => {
	/** `GET /api/v1/me/unread` (every followed thread, room and conversation, 0 when read), kept live. */
	const counts = reactive( { inbox: 0, threads: {}, rooms: {}, conversations: {} } );
	/** Thread → whether the person follows it, as far as this page knows. */
	const following = reactive( {} );
	/**
	 * Whether `GET /api/v1/me/follows` was asked (follows.js): this session,
	 * and since the person last took part where the server follows for them.
	 */
	const follows = reactive( { asked: false } );
	const listeners = new Set();
	let reloadTimer = null;
	/** The signed-in person, and how to open an entry's message (`reset` sets them). */
	let person = null;
	let opener = () => {};

	const marker = readMarker( ( thread, seq ) => api( 'POST', `/api/v1/threads/${ seg( thread ) }/read`, { seq } ).then( reloadSoon ) );

	function apply( u ) {
		counts.inbox = u && Number.isInteger( u.inbox ) ? u.inbox : 0;
		for ( const k of MAPS ) {
			counts[ k ] = u && u[ k ] && typeof u[ k ] === 'object' ? { ...u[ k ] } : {};
		}
	}

	/** Reads the counts again. */
	async function load() {
		try {
			apply( await api( 'GET', '/api/v1/me/unread' ) );
		} catch {
			// the counts stay as they were until the next reconnect
		}
	}

	function reloadSoon() {
		clearTimeout( reloadTimer );
		reloadTimer = setTimeout( load, 300 );
	}

	/** The unread messages of a thread, or undefined when the server counts none for it (not followed). */
	function unreadOf( thread ) {
		const [ map, key ] = slotOf( thread );
		if ( map === 'rooms' && !key.includes( '.' ) ) {
			// A workflow's room on every wiki: its wikis' rooms together.
			const keys = Object.keys( counts.rooms ).filter( ( k ) => k === key || k.startsWith( `${ key }.` ) );
			return keys.length ? keys.reduce( ( n, k ) => n + ( counts.rooms[ k ] || 0 ), 0 ) : undefined;
		}
		return counts[ map ][ key ];
	}

	/** The highest message of a thread this page marked read (0: none). */
	function readUpTo( thread ) {
		return marker.upTo( thread );
	}

	function zero( thread ) {
		const [ map, key ] = slotOf( thread );
		if ( key in counts[ map ] ) {
			counts[ map ][ key ] = 0;
		}
	}

	/** The person has had `thread` on screen up to message `seq`: marked read on the server. */
	function markRead( thread, seq ) {
		if ( marker.mark( thread, seq ) ) {
			zero( thread );
		}
	}

	/** Calls `fn( frame )` with each of the person's frames and conversation messages; returns the way to stop. */
	function listen( fn ) {
		listeners.add( fn );
		return () => listeners.delete( fn );
	}

	/**
	 * A desktop notification of an entry, when the person opted in to some
	 * kind here (notify.js, a chunk of its own, decides and shows it).
	 */
	function notify( e ) {
		let opted = false;
		try {
			opted = !!person && /true/.test( localStorage.getItem( `patrolchat.notify.${ person }` ) || '' );
		} catch {
			opted = false;
		}
		if ( opted ) {
			const name = person;
			Promise.all( [ import( '../notify.js' ), loadViewMessages() ] )
				.then( ( [ m ] ) => m.notifyDesktop( name, e, () => opener( e ), t ) )
				.catch( () => {} );
		}
	}

	/**
	 * A message in a thread: one more unread where the server counts that
	 * thread (every followed one is there, a read one at 0).
	 */
	function messageNew( m ) {
		if ( m && m.author === person && !( m.thread in following ) ) {
			// Posting follows a thread unless the person unfollowed it: ask.
			follows.asked = false;
		}
		if ( !m || !m.thread || m.author === person || ( m.seq && m.seq <= marker.upTo( m.thread ) ) ) {
			return;
		}
		const [ map, key ] = slotOf( m.thread );
		if ( key in counts[ map ] ) {
			counts[ map ][ key ] = ( counts[ map ][ key ] || 0 ) + 1;
		}
	}

	/** One of the person's frames. */
	function frame( f ) {
		switch ( f.type ) {
			case 'inbox.new': {
				const e = f.entry;
				if ( !e ) {
					return;
				}
				if ( !e.read ) {
					counts.inbox++;
				}
				notify( e );
				break;
			}
			case 'inbox.read':
				if ( f.thread ) {
					zero( f.thread );
				} else {
					counts.inbox = 0;
				}
				reloadSoon();
				break;
			case 'follow':
				if ( f.thread ) {
					following[ f.thread ] = !!f.following;
					reloadSoon();
				}
				break;
			case 'conversation.new':
				// Starting one or being added to one follows it.
				follows.asked = false;
				reloadSoon();
				break;
		}
		for ( const fn of listeners ) {
			fn( f );
		}
	}

	/**
	 * Forgets everything and starts again for `name` (null: signed out);
	 * `open( entry )` opens an entry's message in the page.
	 */
	function reset( name = null, open = () => {} ) {
		person = name;
		opener = open;
		apply( null );
		marker.forget();
		follows.asked = false;
		for ( const k of Object.keys( following ) ) {
			delete following[ k ];
		}
	}

	if ( typeof window !== 'undefined' ) {
		window.addEventListener( 'pagehide', () => marker.flush() );
	}

	return { counts, following, follows, load, unreadOf, readUpTo, markRead, messageNew, frame, listen, reset };
} );
