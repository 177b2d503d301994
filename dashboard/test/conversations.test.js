// Private conversations: the names typed to start one, the list with its
// unread counts, starting one (to its thread), its messages as text, and
// a conversation the person is not in answered 404: "no such conversation".
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, reply, mountPage, settle, waitFor } from './harness.js';
import { namesOf, listOf } from '../src/stores/conversations.js';
import { useUnreadStore } from '../src/stores/unread.js';

let page = null;

afterEach( () => {
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
	const msg = await waitFor( () => page.el.querySelector( '[data-testid="message"][data-message-id="dm-c2.1"]' ), 'its message' );
	expect( msg.querySelector( '[data-testid="message-text"]' ).textContent ).toBe( 'hello <b>there</b>' );
	expect( msg.querySelector( 'b' ) ).toBe( null );
	await waitFor( () => api.to( 'POST /api/v1/threads/dm-c2/read' ).length === 1 || null, 'read on the server' );
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
