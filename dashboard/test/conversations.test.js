// Private conversations: the names typed to start one, the list with its
// unread counts, starting one (to its thread), its messages as text, and
// a conversation the person is not in answered 404: "no such conversation".
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, reply, mountPage, settle, waitFor } from './harness.js';
import { namesOf, listOf, useConversationsStore } from '../src/stores/conversations.js';
import { useUnreadStore } from '../src/stores/unread.js';
import { useModerationStore } from '../src/stores/moderation.js';
import { useLiveStore } from '../src/stores/live.js';
import { stopLive } from '../src/live.js';

let page = null;

afterEach( () => {
	stopLive();
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

test( 'names: split at commas, trimmed, without @, each once, without oneself', () => {
	expect( namesOf( ' Bob, @Carol ,Bob,,Alice\nDan ', 'Alice' ) ).toEqual( [ 'Bob', 'Carol', 'Dan' ] );
	expect( listOf( { conversations: [ { id: 'a' }, { nope: 1 } ] } ) ).toEqual( [ { id: 'a' } ] );
	expect( listOf( [ { id: 'b' } ] ) ).toEqual( [ { id: 'b' } ] );
} );

const CONV = { id: 'c1', thread: 'dm-c1', participants: [ 'Alice', 'Bob' ], by: 'Alice', at: 1, last_at: 2, unread: 2, last_message: { id: 'dm-c1.1', author: 'Bob', text: '<img src=x onerror=alert(1)>', seq: 1 } };

test( 'the list shows unread and the last message as text; starting one opens it; too many names are refused', async () => {
	// The unread counts are the unread store's: every followed conversation
	// is there (0 when read); one that is not counts none, whatever its own
	// `unread` says.
	const api = fakeApi( {
		'GET /api/v1/conversations': [ CONV, { ...CONV, id: 'c9', unread: 3, last_message: null } ],
		'GET /api/v1/me/unread': { inbox: 0, threads: {}, rooms: {}, conversations: { c1: 2 } },
		'POST /api/v1/conversations': ( req ) => reply( 201, { ...CONV, id: 'c2', participants: [ 'Alice', ...req.body.with ], message: {} } ),
		'GET /api/v1/conversations/c2': { ...CONV, id: 'c2' },
		'GET /api/v1/conversations/c2/messages': [ { id: 'dm-c2.1', thread: 'dm-c2', seq: 1, author: 'Alice', text: 'hello <b>there</b>', at: Date.now() } ],
		'POST /api/v1/threads/dm-c2/read': {}
	} );
	page = await mountPage( '/conversations', person() );
	await useUnreadStore().load();
	const row = await waitFor( () => page.el.querySelector( '[data-testid="conversation-row"][data-conversation="c1"]' ), 'the row' );
	expect( row.textContent ).toContain( 'Conversation with Bob' );
	await waitFor( () => row.querySelector( '[data-testid="conversation-unread"]' ), 'its unread count' );
	expect( row.querySelector( '[data-testid="conversation-unread"]' ).textContent ).toContain( '2' );
	const unfollowed = page.el.querySelector( '[data-testid="conversation-row"][data-conversation="c9"]' );
	expect( unfollowed.querySelector( '[data-testid="conversation-unread"]' ) ).toBe( null );
	expect( row.textContent ).toContain( '<img src=x onerror=alert(1)>' );
	expect( row.querySelector( 'img' ) ).toBe( null );

	const fill = async ( testid, value ) => {
		const el = page.el.querySelector( `[data-testid="${ testid }"]` );
		el.value = value;
		el.dispatchEvent( new Event( 'input' ) );
		await settle();
	};
	await fill( 'conversation-with', 'A1, A2, A3, A4, A5, A6, A7, A8, A9, A10' );
	await fill( 'conversation-text', 'hi' );
	page.el.querySelector( '[data-testid="conversation-start"]' ).dispatchEvent( new Event( 'submit' ) );
	await settle();
	expect( page.el.querySelector( '[data-testid="conversation-start-error"]' ).textContent ).toContain( 'one to nine' );
	expect( api.to( 'POST /api/v1/conversations' ).length ).toBe( 0 );

	await fill( 'conversation-with', 'Bob, Carol' );
	page.el.querySelector( '[data-testid="conversation-start"]' ).dispatchEvent( new Event( 'submit' ) );
	await waitFor( () => page.router.currentRoute.value.path === '/conversations/c2' || null, 'the new conversation' );
	expect( api.to( 'POST /api/v1/conversations' )[ 0 ].body ).toEqual( { with: [ 'Bob', 'Carol' ], text: 'hi' } );
	// The answer is the conversation: first in the list, which is not read again.
	expect( useConversationsStore().list.map( ( c ) => c.id ) ).toEqual( [ 'c2', 'c1', 'c9' ] );
	expect( api.to( 'GET /api/v1/conversations' ) ).toHaveLength( 1 );
	const msg = await waitFor( () => page.el.querySelector( '[data-testid="message"][data-message-id="dm-c2.1"]' ), 'its message' );
	expect( msg.querySelector( '[data-testid="message-text"]' ).textContent ).toBe( 'hello <b>there</b>' );
	expect( msg.querySelector( 'b' ) ).toBe( null );
	await waitFor( () => api.to( 'POST /api/v1/threads/dm-c2/read' ).length === 1 || null, 'read on the server' );
} );

/** A WebSocket that opens and lets the test send frames (`sockets[0].frame( f )`). */
function liveSockets() {
	const sockets = [];
	vi.stubGlobal( 'WebSocket', class {
		constructor() {
			sockets.push( this );
			setTimeout( () => this.onopen && this.onopen() );
		}
		send() {}
		close() {}
		frame( f ) {
			this.onmessage( { data: JSON.stringify( f ) } );
		}
	} );
	return sockets;
}

test( 'someone the person ignores: their last message shows without its text, collapsed or live, and is not counted unread', async () => {
	fakeApi( {
		'GET /api/v1/conversations': [
			{ ...CONV, participants: [ 'Alice', 'Mallory' ], last_message: { id: 'dm-c1.1', thread: 'dm-c1', author: 'Mallory', text: 'rude words', seq: 1, collapsed: true } },
			{ ...CONV, id: 'c2', thread: 'dm-c2', participants: [ 'Alice', 'Carol', 'Mallory' ], last_message: { id: 'dm-c2.1', thread: 'dm-c2', author: 'Carol', text: 'hello', seq: 1 } }
		],
		'GET /api/v1/me/unread': { inbox: 0, threads: {}, rooms: {}, conversations: { c1: 0, c2: 0 } },
		'GET /api/v1/me/ignores': [ 'Mallory' ]
	} );
	page = await mountPage( '/conversations', person() );
	const last = ( id ) => page.el.querySelector( `[data-testid="conversation-row"][data-conversation="${ id }"] [data-testid="conversation-last"]` );
	// Collapsed by the server.
	await waitFor( () => last( 'c1' ), 'the last message of c1' );
	expect( last( 'c1' ).textContent ).toContain( 'Message from Mallory (ignored)' );
	expect( last( 'c1' ).textContent ).not.toContain( 'rude words' );
	expect( last( 'c2' ).textContent ).toContain( 'Carol: hello' );
	// Live: the frame carries no flag; the person's ignores decide.
	const sockets = liveSockets();
	useLiveStore().startSession();
	const moderation = useModerationStore();
	await waitFor( () => moderation.isIgnored( 'Mallory' ) && sockets.length === 1, 'the ignores and the socket' );
	const unread = useUnreadStore();
	await waitFor( () => unread.unreadOf( 'dm-c2' ) === 0, 'the unread counts' );
	sockets[ 0 ].frame( { type: 'message.new', message: { id: 'dm-c2.2', thread: 'dm-c2', seq: 2, author: 'Mallory', text: 'more rude words', at: Date.now() } } );
	await waitFor( () => last( 'c2' ).textContent.includes( 'Mallory' ) || null, 'the live message' );
	expect( last( 'c2' ).textContent ).toContain( 'Message from Mallory (ignored)' );
	expect( last( 'c2' ).textContent ).not.toContain( 'rude words' );
	expect( unread.unreadOf( 'dm-c2' ) ).toBe( 0 );
	// Someone else's counts.
	sockets[ 0 ].frame( { type: 'message.new', message: { id: 'dm-c2.3', thread: 'dm-c2', seq: 3, author: 'Carol', text: 'hi', at: Date.now() } } );
	expect( unread.unreadOf( 'dm-c2' ) ).toBe( 1 );
} );

test( 'a conversation opens on its newest messages', async () => {
	// 600 messages; the route gives those after `after`, oldest first, at most `limit` (100 unless said).
	const all = Array.from( { length: 600 }, ( _, i ) => ( { id: `dm-c1.${ i + 1 }`, thread: 'dm-c1', seq: i + 1, author: 'Bob', text: `number ${ i + 1 }`, at: Date.now() } ) );
	const api = fakeApi( {
		'GET /api/v1/conversations/c1': CONV,
		'GET /api/v1/conversations/c1/messages': ( req ) => {
			const q = new URL( req.url, 'http://x' ).searchParams;
			const after = Number( q.get( 'after' ) || 0 );
			return all.filter( ( m ) => m.seq > after ).slice( 0, Number( q.get( 'limit' ) || 100 ) );
		},
		'POST /api/v1/threads/dm-c1/read': {}
	} );
	page = await mountPage( '/conversations/c1', person() );
	await waitFor( () => page.el.querySelector( '[data-testid="message"][data-message-id="dm-c1.600"]' ), 'the newest message' );
	expect( page.el.querySelectorAll( '[data-testid="message"]' ) ).toHaveLength( 600 );
	expect( api.to( 'GET /api/v1/conversations/c1/messages' ).map( ( r ) => r.url.split( '?' )[ 1 ] ) ).toEqual( [ 'after=0&limit=500', 'after=500&limit=500' ] );
	await waitFor( () => api.to( 'POST /api/v1/threads/dm-c1/read' ).some( ( r ) => r.body.seq === 600 ) || null, 'read to the newest' );
} );

test( 'a conversation started by someone else: its frame puts it in the list, which is not read again', async () => {
	const api = fakeApi( {
		'GET /api/v1/conversations': [ CONV ]
	} );
	page = await mountPage( '/conversations', person() );
	await waitFor( () => page.el.querySelector( '[data-testid="conversation-row"]' ), 'the list' );
	const unread = useUnreadStore();
	unread.frame( { type: 'conversation.new', conversation: { id: 'c3', participants: [ 'Alice', 'Carol' ], by: 'Carol', at: 5 } } );
	unread.frame( { type: 'message.new', message: { id: 'dm-c3.1', thread: 'dm-c3', seq: 1, author: 'Carol', text: 'hello there', at: 6 } } );
	const rows = () => [ ...page.el.querySelectorAll( '[data-testid="conversation-row"]' ) ];
	await waitFor( () => rows().length === 2 || null, 'the new conversation' );
	expect( rows()[ 0 ].getAttribute( 'data-conversation' ) ).toBe( 'c3' );
	expect( rows()[ 0 ].textContent ).toContain( 'Conversation with Carol' );
	expect( rows()[ 0 ].textContent ).toContain( 'Carol: hello there' );
	expect( api.to( 'GET /api/v1/conversations' ) ).toHaveLength( 1 );
} );

test( 'the list is the signed-in person\'s: gone when it cannot be read, and when the session ends', async () => {
	let answer = [ CONV ];
	fakeApi( { 'GET /api/v1/conversations': () => answer } );
	page = await mountPage( '/conversations', person() );
	const row = () => page.el.querySelector( '[data-testid="conversation-row"]' );
	await waitFor( row, 'Alice\'s conversation' );
	const conversations = useConversationsStore();
	// A failed read shows the error, not the list as it was.
	answer = reply( 500, { error: { code: 'unavailable', message: 'try again' } } );
	await conversations.loadList();
	await waitFor( () => !row() || null, 'the list gone' );
	expect( conversations.listError ).not.toBe( '' );
	answer = [ CONV ];
	await conversations.loadList();
	await waitFor( row, 'the list back' );
	// Signed out, then in as someone else whose list cannot be read yet.
	page.session.signedOut();
	await waitFor( () => conversations.list.length === 0 || null, 'Alice\'s list forgotten' );
	answer = reply( 500, { error: { code: 'unavailable', message: 'try again' } } );
	page.session.me = person( { name: 'Bob' } );
	await waitFor( () => page.el.querySelector( '.pc-conversations' ), 'Bob\'s conversations view' );
	await settle();
	expect( row() ).toBe( null );
	expect( conversations.list ).toEqual( [] );
} );

test( 'a conversation the person is not in: no such conversation', async () => {
	fakeApi( {
		'GET /api/v1/conversations/zz': reply( 404, { error: { code: 'not_found', message: 'no such conversation' } } ),
		'GET /api/v1/conversations/zz/messages': reply( 404, { error: { code: 'not_found', message: 'no such conversation' } } )
	} );
	page = await mountPage( '/conversations/zz', person() );
	await waitFor( () => page.el.querySelector( '[data-testid="conversation-not-found"]' ), 'the 404' );
	expect( page.el.querySelector( '[data-testid="message-input"]' ) ).toBe( null );
} );
