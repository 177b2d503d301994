// Private conversations (`/api/v1/conversations`): the person's list, the
// open one's thread (`dm-<id>`), starting one, posting, and their frames
// (`conversation.new`, and `message.new` of thread `dm-<id>`, which reach
// the participants alone).

import { defineStore } from 'pinia';
import { reactive, ref, watch } from 'vue';
import { api, seg } from '../api.js';
import { errorText } from '../errors.js';
import { locale } from '../i18n.js';
import { useSessionStore } from './session.js';
import { useUnreadStore } from './unread.js';
import { mergeMessages, lastSeq, messagePages } from './threads.js';

/** The conversations of an answer: a list, or `{conversations: [...]}`. */
export function listOf( answer ) {
	const list = Array.isArray( answer ) ? answer : ( answer && answer.conversations ) || [];
	return list.filter( ( c ) => c && typeof c.id === 'string' );
}

/**
 * The names typed to start a conversation with: split at commas and new
 * lines, trimmed, without `@`, each once, without the person themself.
 */
export function namesOf( text, me ) {
	const out = [];
	for ( const raw of String( text || '' ).split( /[,\n،]/ ) ) {
		const name = raw.trim().replace( /^@/, '' ).trim();
		if ( name && name !== me && !out.includes( name ) ) {
			out.push( name );
		}
	}
	return out;
}

/** Names joined the language's way ("Bob, Carol and Dan"). */
export function listFormat( names ) {
	return new Intl.ListFormat( locale.value, { type: 'conjunction' } ).format( names );
}

/** The messages route of conversation `id`. */
function messagesOf( id ) {
	return `/api/v1/conversations/${ seg( id ) }/messages`;
}

export const useConversationsStore = defineStore( 'conversations', () => {
	const list = ref( [] );
	const listLoaded = ref( false );
	const listError = ref( '' );
	/** The open conversation: `{id, conversation, messages, loading, missing, error}`. */
	const open = reactive( { id: null, conversation: null, messages: [], loading: false, missing: false, error: '' } );
	let listening = null;

	async function loadList() {
		try {
			list.value = listOf( await api( 'GET', '/api/v1/conversations' ) );
			listError.value = '';
		} catch ( e ) {
			list.value = [];
			listError.value = errorText( e );
		} finally {
			listLoaded.value = true;
		}
	}

	/** A conversation first in the list (the newest), in place of its older copy. */
	function add( c ) {
		if ( c && typeof c.id === 'string' ) {
			list.value = [ c, ...list.value.filter( ( x ) => x.id !== c.id ) ];
		}
	}

	function listen() {
		if ( listening ) {
			return;
		}
		listening = useUnreadStore().listen( ( f ) => {
			if ( f.type === 'conversation.new' ) {
				// The frame carries the conversation; its first message follows.
				if ( !f.conversation ) {
					loadList();
				} else if ( !list.value.some( ( c ) => c.id === f.conversation.id ) ) {
					add( f.conversation );
				}
			} else if ( f.type === 'reconnected' ) {
				loadList();
				catchUp();
			} else if ( f.type === 'message.new' && f.message && String( f.message.thread || '' ).startsWith( 'dm-' ) ) {
				const id = f.message.thread.slice( 3 );
				if ( id === open.id ) {
					mergeMessages( open.messages, [ f.message ] );
				}
				if ( !list.value.some( ( c ) => c.id === id ) ) {
					loadList();
				} else {
					list.value = list.value.map( ( c ) => ( c.id === id ? { ...c, last_message: f.message } : c ) );
				}
			}
		} );
	}

	async function openConversation( id ) {
		if ( open.id === id && ( open.loading || open.conversation ) ) {
			return;
		}
		Object.assign( open, { id, conversation: null, messages: [], loading: true, missing: false, error: '' } );
		try {
			const [ c, msgs ] = await Promise.all( [
				api( 'GET', `/api/v1/conversations/${ seg( id ) }` ),
				// The route gives the oldest first: read on to the newest.
				messagePages( messagesOf( id ), 0 )
			] );
			if ( open.id !== id ) {
				return;
			}
			open.conversation = c && ( c.conversation || c );
			mergeMessages( open.messages, msgs );
		} catch ( e ) {
			if ( open.id === id ) {
				open.missing = e.status === 404;
				open.error = open.missing ? '' : errorText( e );
			}
		} finally {
			if ( open.id === id ) {
				open.loading = false;
			}
		}
	}

	function closeConversation() {
		open.id = null;
		open.conversation = null;
		open.messages = [];
	}

	// The conversations are the signed-in person's: they go when the session
	// ends (or another person's begins).
	const session = useSessionStore();
	watch( () => session.me && session.me.name, () => {
		list.value = [];
		listLoaded.value = false;
		listError.value = '';
		closeConversation();
	} );

	/** After a reconnect: what the open conversation missed. */
	async function catchUp() {
		const id = open.id;
		if ( !id || !open.conversation ) {
			return;
		}
		try {
			const msgs = await messagePages( messagesOf( id ), lastSeq( open.messages ) );
			if ( open.id === id ) {
				mergeMessages( open.messages, msgs );
			}
		} catch {
			// the next reconnect tries again
		}
	}

	async function post( id, text ) {
		try {
			const m = await api( 'POST', `/api/v1/conversations/${ seg( id ) }/messages`, { text } );
			if ( m && open.id === id ) {
				mergeMessages( open.messages, [ m ] );
			}
			return true;
		} catch ( e ) {
			useSessionStore().notify( 'error', errorText( e ) );
			return false;
		}
	}

	/**
	 * Starts a conversation with `names` and a first message.
	 *
	 * @return {Promise<Object>} the conversation (`{id, participants, ...}`); rejects with the api's error
	 */
	async function start( names, text ) {
		const c = await api( 'POST', '/api/v1/conversations', { with: names, text } );
		// The answer is the conversation as the list has it: not read again.
		add( c );
		return c;
	}

	return { list, listLoaded, listError, open, loadList, listen, openConversation, closeConversation, catchUp, post, start };
} );
