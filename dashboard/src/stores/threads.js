// The threads on screen: the open item's and the workflow room's
// messages, loading, catching up and posting, and hidden messages.

import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { api, seg } from '../api.js';
import { t } from '../i18n.js';
import { genderFor } from '../genders.js';
import { errorText } from '../errors.js';
import { useSessionStore } from './session.js';
import { useConductStore } from './conduct.js';
import { useQueuesStore } from './queues.js';
import { useItemStore } from './item.js';
import { pathOf, go } from '../router.js';

/** Adds the messages `into` has not got, in order (by `seq`). */
export function mergeMessages( into, more ) {
	const seen = new Set( into.map( ( m ) => m.id ) );
	let added = false;
	for ( const m of more ) {
		if ( m && m.id && !seen.has( m.id ) ) {
			into.push( m );
			seen.add( m.id );
			added = true;
		}
	}
	if ( added ) {
		into.sort( ( a, b ) => a.seq - b.seq );
	}
}

/** The highest `seq` of messages (0: none). */
export function lastSeq( messages ) {
	return messages.reduce( ( s, m ) => Math.max( s, m.seq || 0 ), 0 );
}

/**
 * A thread's messages after number `after`, from its messages route
 * (`path`, oldest first), in pages of 500 up to 20 pages: the newest 1000.
 */
export async function messagePages( path, after ) {
	const out = [];
	let from = after;
	for ( let i = 0; i < 20; i++ ) {
		const page = await api( 'GET', `${ path }?after=${ from }&limit=500` );
		if ( !Array.isArray( page ) || page.length === 0 ) {
			break;
		}
		out.push( ...page );
		from = lastSeq( page );
		if ( page.length < 500 ) {
			break;
		}
	}
	return out.slice( -1000 );
}

const roomPages = ( wf, after ) => messagePages( `/api/v1/workflows/${ seg( wf ) }/messages`, after );

export const useThreadsStore = defineStore( 'threads', () => {
	/** The open item's thread. */
	const item = reactive( { id: null, messages: [] } );
	/** The room of a workflow. */
	const room = reactive( { wf: null, messages: [], loading: false, error: null } );
	/** The message a followed mention leads to (its thread scrolls to it). */
	const highlight = ref( null );

	// -------------------------------------------------------------- item

	function openItemThread( id ) {
		item.id = id;
		item.messages = [];
	}

	function closeItemThread() {
		item.id = null;
		item.messages = [];
	}

	function addItemMessages( msgs ) {
		mergeMessages( item.messages, msgs );
	}

	function lastItemSeq() {
		return lastSeq( item.messages );
	}

	/**
	 * Posts a message. A refusal for want of the community's code of
	 * conduct asks for it; once accepted, the same text is sent again.
	 *
	 * @return {Promise<Object|null>} the message, or null (the text stays with the person)
	 */
	async function post( path, text ) {
		for ( let asked = 0; ; asked++ ) {
			try {
				return await api( 'POST', path, { text } );
			} catch ( e ) {
				if ( e.code === 'conduct_required' && asked < 2 ) {
					if ( await useConductStore().ask( e.body && e.body.error ) ) {
						continue;
					}
					if ( e.body && e.body.error && e.body.error.wiki ) {
						return null;
					}
				}
				useSessionStore().notify( 'error', errorText( e ) );
				return null;
			}
		}
	}

	async function postItemMessage( id, text ) {
		const m = await post( `/api/v1/items/${ seg( id ) }/messages`, text );
		if ( m && item.id === id ) {
			mergeMessages( item.messages, [ m ] );
		}
		return !!m;
	}

	// -------------------------------------------------------------- room

	async function openRoom( wf ) {
		if ( room.wf === wf && ( room.loading || room.messages.length ) ) {
			return;
		}
		room.wf = wf;
		room.messages = [];
		room.loading = true;
		room.error = null;
		try {
			const msgs = await roomPages( wf, 0 );
			if ( room.wf === wf ) {
				mergeMessages( room.messages, msgs );
			}
		} catch ( e ) {
			if ( room.wf === wf ) {
				room.error = errorText( e );
			}
		} finally {
			if ( room.wf === wf ) {
				room.loading = false;
			}
		}
	}

	/** Forgets which room is open (sign-out). */
	function leaveRoom() {
		room.wf = null;
	}

	async function catchUpRoom() {
		const wf = room.wf;
		if ( !wf ) {
			return;
		}
		try {
			const msgs = await roomPages( wf, lastSeq( room.messages ) );
			if ( room.wf === wf ) {
				mergeMessages( room.messages, msgs );
			}
		} catch {
			// the next reconnect tries again
		}
	}

	async function postRoomMessage( wf, text ) {
		const m = await post( `/api/v1/workflows/${ seg( wf ) }/messages`, text );
		if ( m && room.wf === wf ) {
			mergeMessages( room.messages, [ m ] );
		}
		return !!m;
	}

	// ------------------------------------------------------------ frames

	/** A `message.new` frame: into the thread it belongs to, if open. */
	function messageNew( m ) {
		if ( m.item && m.item === item.id ) {
			mergeMessages( item.messages, [ m ] );
		} else if ( !m.item && !m.wiki && m.workflow && m.workflow === room.wf ) {
			// The cross-wiki room; a wiki's room is a thread of its own.
			mergeMessages( room.messages, [ m ] );
		}
	}

	/**
	 * A `mention` frame, unless the person mentioned themself: a notice that
	 * stays until read, naming the item by its title and linking the
	 * message in its thread.
	 */
	async function mention( m ) {
		const session = useSessionStore();
		if ( !m || !m.id || !session.me || m.author === session.me.name ) {
			return;
		}
		let text;
		let link;
		const gender = await genderFor( m.author );
		if ( m.item ) {
			const queues = useQueuesStore();
			const row = queues.rowOf( m.item );
			const wf = row ? queues.list.wf : null;
			let title = row ? row.item.title : null;
			if ( !title ) {
				const open = useItemStore().current;
				title = open.id === m.item && open.detail ? open.detail.item.title : null;
			}
			if ( !title ) {
				try {
					const d = await api( 'GET', `/api/v1/items/${ seg( m.item ) }` );
					title = d && d.item && d.item.title;
				} catch {
					// named by its id
				}
			}
			text = t( 'patrolchat-mentioned', m.author, title || m.item, gender );
			link = {
				href: `${ pathOf( 'item', wf, m.item ) }#message-${ encodeURIComponent( m.id ) }`,
				go: () => {
					highlight.value = m.id;
					go( 'item', wf, m.item );
				}
			};
		} else if ( String( m.thread || '' ).startsWith( 'dm-' ) ) {
			const id = m.thread.slice( 3 );
			text = t( 'patrolchat-mentioned', m.author, t( 'patrolchat-conversation' ), gender );
			link = {
				href: `${ pathOf( 'conversation', null, id ) }#message-${ encodeURIComponent( m.id ) }`,
				go: () => {
					highlight.value = m.id;
					go( 'conversation', null, id );
				}
			};
		} else {
			text = t( 'patrolchat-mentioned', m.author, m.workflow ? t( 'patrolchat-room-of', m.workflow ) : '', gender );
			if ( m.workflow ) {
				link = {
					href: `${ pathOf( 'room', m.workflow ) }#message-${ encodeURIComponent( m.id ) }`,
					go: () => {
						highlight.value = m.id;
						go( 'room', m.workflow );
					}
				};
			}
		}
		session.notify( 'notice', text, { link, mention: m.id } );
	}

	/**
	 * Opens a message in its thread (an item's, a room's or a
	 * conversation's), which scrolls to it and marks it: a search result or
	 * an inbox entry (`{thread, item?, workflow?, conversation?, message?}`).
	 */
	function openMessage( e ) {
		const thread = String( e.thread || '' );
		highlight.value = e.message || null;
		if ( e.conversation || thread.startsWith( 'dm-' ) ) {
			return go( 'conversation', null, e.conversation || thread.slice( 3 ) );
		}
		if ( thread.startsWith( 'room-' ) ) {
			return go( 'room', e.workflow || thread.slice( 5 ).split( '.' )[ 0 ] );
		}
		const item = e.item || thread;
		return item ? go( 'item', e.workflow || null, item ) : null;
	}

	/** Marks a message hidden in the loaded threads: admins and its author keep the text. */
	function markHidden( id, info ) {
		const session = useSessionStore();
		for ( const arr of [ item.messages, room.messages ] ) {
			const m = arr.find( ( x ) => x.id === id );
			if ( !m ) {
				continue;
			}
			if ( session.isAdmin ) {
				m.hidden = { by: info.by || null, reason: info.reason || '', at: info.at || Date.now() };
			} else if ( session.me && m.author === session.me.name && !m.bot ) {
				// The author keeps their own words, as the api gives them.
				m.hidden = true;
			} else {
				m.hidden = true;
				m.text = '';
				delete m.mentions;
			}
		}
	}

	return {
		item, room, highlight,
		openItemThread, closeItemThread, addItemMessages, lastItemSeq, postItemMessage,
		openRoom, leaveRoom, catchUpRoom, postRoomMessage, messageNew, mention, markHidden, openMessage
	};
} );
