// The live connection: the socket's state (src/live.js keeps the socket),
// the feed's status, every frame to the store it concerns (the person's
// own, inbox and follows, to the unread store), and the catch-up over HTTP
// after a reconnect.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import * as live from '../live.js';
import { useSessionStore } from './session.js';
import { useQueuesStore } from './queues.js';
import { useItemStore } from './item.js';
import { useThreadsStore } from './threads.js';
import { usePresenceStore } from './presence.js';
import { useModerationStore } from './moderation.js';
import { useUnreadStore } from './unread.js';

/** Lag above which the feed counts as lagging. */
export const LAGGING_MS = 10000;

export const useLiveStore = defineStore( 'live', () => {
	/** The socket: `{status, retryAt, attempts}`. */
	const socket = live.socket;
	/** The last `feed.status` frame. */
	const feed = ref( { known: false, connected: false, lag_ms: null, last_event_at: null } );

	let workflowsTimer = null;

	function onFrame( f ) {
		switch ( f.type ) {
			case 'feed.status':
				feed.value = { known: true, connected: !!f.connected, lag_ms: f.lag_ms ?? null, last_event_at: f.last_event_at ?? null };
				return;
			case 'item.new':
			case 'item.updated':
			case 'item.claimed':
			case 'item.released':
			case 'item.resolved':
				useItemStore().applyFrame( f );
				useQueuesStore().applyFrame( f );
				return;
			case 'item.acted':
				useItemStore().applyFrame( f );
				return;
			case 'message.new':
				if ( f.message ) {
					useThreadsStore().messageNew( f.message );
					useQueuesStore().messageNew( f.message );
					// Those of people the person ignores are not unread (nor on the server).
					if ( !useModerationStore().isIgnored( f.message.author ) ) {
						useUnreadStore().messageNew( f.message );
					}
					useUnreadStore().frame( f );
				}
				return;
			case 'inbox.new':
			case 'inbox.read':
			case 'follow':
			case 'conversation.new':
				useUnreadStore().frame( f );
				return;
			case 'mention':
				useThreadsStore().mention( f.message );
				return;
			case 'presence':
				usePresenceStore().applyFrame( f );
				return;
			case 'message.hidden':
				if ( typeof f.message === 'string' ) {
					useThreadsStore().markHidden( f.message, { by: f.by, reason: f.reason, at: f.at } );
				}
		}
	}

	/** After a reconnect: what happened meanwhile, over HTTP. */
	async function catchUp() {
		const queues = useQueuesStore();
		const jobs = [ queues.loadWorkflows().catch( () => {} ) ];
		if ( queues.list.wf ) {
			jobs.push( queues.loadList( queues.list.wf, { keepCursor: true } ) );
		}
		jobs.push( useItemStore().catchUpItem(), useThreadsStore().catchUpRoom(), useUnreadStore().load() );
		await Promise.all( jobs );
		// Views loaded as chunks (conversations) catch up too.
		useUnreadStore().frame( { type: 'reconnected' } );
	}

	/** Starts the live connection for the signed-in person. */
	function startSession() {
		const session = useSessionStore();
		useModerationStore().loadIgnores();
		useUnreadStore().reset( session.me && session.me.name, ( e ) => useThreadsStore().openMessage( e ) );
		useUnreadStore().load();
		live.subscribe( [], [] );
		live.startLive( {
			frame: onFrame,
			open: ( again ) => {
				const watched = usePresenceStore().item;
				if ( again ) {
					catchUp();
				} else if ( watched ) {
					live.watch( watched );
				}
			},
			failed: async () => {
				// A refused upgrade looks like any failure: is the session gone?
				try {
					await session.checkAuth();
					if ( !session.me ) {
						session.signedOut();
					}
				} catch {
					// the api is down: keep retrying
				}
			}
		} );
		clearInterval( workflowsTimer );
		workflowsTimer = setInterval( () => {
			if ( session.me && live.socket.status === 'open' ) {
				useQueuesStore().loadWorkflows().catch( () => {} );
			}
		}, 60000 );
	}

	return { socket, feed, startSession };
} );
