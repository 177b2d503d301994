// The Follow button follows the server, which follows a thread for the
// person when they post in it, claim its item or start or join a
// conversation, unless they unfollowed it (which sticks): after each, the
// follows are asked again; a thread unfollowed here is not.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor, typeInto, reply } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { useUnreadStore } from '../src/stores/unread.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

/** The item view of `id`, with the fake api's follows given by `follows()`. */
async function openItem( id, follows ) {
	const api = fakeApi( {
		[ `GET /api/v1/items/${ id }` ]: itemDetail( {}, { id } ),
		[ `GET /api/v1/items/${ id }/notes` ]: [],
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: 'patroller', groups: [], blocked: false, checked_at: 1 },
		'GET /api/v1/me/follows': () => follows(),
		[ `POST /api/v1/items/${ id }/messages` ]: ( req ) => reply( 201, { id: `${ id }.1`, thread: id, item: id, wiki: 'enwiki', seq: 1, author: 'Alice', text: req.body.text, at: Date.now() } ),
		[ `POST /api/v1/items/${ id }/claim` ]: { token: 'tok-1', expires_at: Date.now() + 300000, holder: 'Alice' },
		[ `POST /api/v1/threads/${ id }/unfollow` ]: {},
		[ `POST /api/v1/threads/${ id }/read` ]: {}
	} );
	page = await mountPage( `/queue/patrol/item/${ id }`, person() );
	useUnreadStore().reset( 'Alice' );
	useItemStore().openItem( id );
	await waitFor( () => page.el.querySelector( '[data-testid="follow-button"]' ), 'the follow button' );
	await waitFor( () => api.to( 'GET /api/v1/me/follows' ).length === 1 || null, 'the follows' );
	await settle();
	return api;
}

const button = () => page.el.querySelector( '[data-testid="follow-button"]' );

/** Posts `text` in the thread, and hands its frame to the unread store as the live store does. */
async function post( id, text, seq ) {
	await typeInto( page.el.querySelector( '.pc-thread__input' ), text );
	page.el.querySelector( '[data-testid="message-send"]' ).click();
	await waitFor( () => page.el.querySelector( `[data-testid="message"][data-message-id="${ id }.1"]` ), 'the message' );
	useUnreadStore().messageNew( { id: `${ id }.${ seq }`, thread: id, item: id, seq, author: 'Alice', text, at: Date.now() } );
}

test( 'posting in a thread: followed, as the server says', async () => {
	let followed = [];
	const api = await openItem( 'enwiki-1', () => followed );
	expect( button().getAttribute( 'data-following' ) ).toBe( 'false' );
	followed = [ { thread: 'enwiki-1', at: 1 } ];
	await post( 'enwiki-1', 'looking at it', 1 );
	await waitFor( () => button().getAttribute( 'data-following' ) === 'true' || null, 'followed' );
	expect( api.to( 'GET /api/v1/me/follows' ) ).toHaveLength( 2 );
	// Once known, posting again asks nothing.
	useUnreadStore().messageNew( { id: 'enwiki-1.2', thread: 'enwiki-1', item: 'enwiki-1', seq: 2, author: 'Alice', text: 'again', at: Date.now() } );
	await settle();
	expect( api.to( 'GET /api/v1/me/follows' ) ).toHaveLength( 2 );
} );

test( 'unfollowed here: posting does not follow it again, and nothing is asked', async () => {
	const api = await openItem( 'enwiki-1', () => [ { thread: 'enwiki-1', at: 1 } ] );
	expect( button().getAttribute( 'data-following' ) ).toBe( 'true' );
	button().click();
	await waitFor( () => button().getAttribute( 'data-following' ) === 'false' || null, 'unfollowed' );
	await post( 'enwiki-1', 'one more thing', 1 );
	await settle();
	expect( button().getAttribute( 'data-following' ) ).toBe( 'false' );
	expect( api.to( 'GET /api/v1/me/follows' ) ).toHaveLength( 1 );
} );

test( 'claiming the item on screen: followed, as the server says', async () => {
	let followed = [];
	const api = await openItem( 'enwiki-3', () => followed );
	expect( button().getAttribute( 'data-following' ) ).toBe( 'false' );
	followed = [ 'enwiki-3' ];
	page.el.querySelector( '[data-testid="claim"]' ).click();
	await waitFor( () => api.to( 'POST /api/v1/items/enwiki-3/claim' ).length === 1 || null, 'the claim' );
	await waitFor( () => button().getAttribute( 'data-following' ) === 'true' || null, 'followed' );
	expect( api.to( 'GET /api/v1/me/follows' ) ).toHaveLength( 2 );
} );

test( 'a conversation started or joined asks again; a failed read is not retried in a loop', async () => {
	let answer = reply( 500, { error: { code: 'unavailable', message: 'down' } } );
	const api = await openItem( 'enwiki-1', () => answer );
	await settle();
	expect( api.to( 'GET /api/v1/me/follows' ) ).toHaveLength( 1 );
	answer = [ 'enwiki-1', 'dm-c1' ];
	useUnreadStore().frame( { type: 'conversation.new', conversation: { id: 'c1', participants: [ 'Alice', 'Bob' ], by: 'Bob', at: 1 } } );
	await waitFor( () => useUnreadStore().following[ 'dm-c1' ] === true || null, 'the conversation followed' );
	expect( button().getAttribute( 'data-following' ) ).toBe( 'true' );
	expect( api.to( 'GET /api/v1/me/follows' ) ).toHaveLength( 2 );
} );
