// The item list: its filters follow the URL and the person's last choice,
// and each row tells how many messages its discussion holds and whether
// some arrived since the person last had it on screen (read marks kept by
// the server, `POST /api/v1/threads/{thread}/read`).
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useQueuesStore } from '../src/stores/queues.js';
import { useItemStore } from '../src/stores/item.js';
import { startSync } from '../src/boot.js';
import { useUnreadStore } from '../src/stores/unread.js';

let page = null;

beforeEach( () => {
	localStorage.clear();
} );

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

const now = Date.now();
const view = ( id, wiki, extra = {}, item = {} ) => ( {
	item: { id, wiki, title: id, namespace: 0, kind: 'edit', user: 'Bob', performer: 'ip', priority: 10, created_at: now, workflows: [ 'patrol' ], revisions: [ { byte_delta: 5 } ], ...item },
	state: 'open', claim: null, message_count: 0, last_message_seq: 0, ...extra
} );
const ITEMS = [
	view( 'enwiki-1', 'enwiki', { message_count: 3, last_message_seq: 3 }, { priority: 50, created_at: now - 1000 } ),
	view( 'dewiki-2', 'dewiki', {}, { priority: 40, created_at: now - 3000 } ),
	view( 'dewiki-3', 'dewiki', { claim: { holder: 'Carol', expires_at: now + 60000 } }, { priority: 30, created_at: now - 2000 } )
];
const MESSAGES = [ 1, 2, 3 ].map( ( seq ) => ( { id: `enwiki-1.${ seq }`, thread: 'enwiki-1', seq, item: 'enwiki-1', author: 'Bob', text: 'hi', at: now } ) );
const routes = () => ( {
	'GET /api/v1/items/enwiki-1': itemDetail( { messages: MESSAGES }, { ...ITEMS[ 0 ].item, revisions: [ { rev_id: 2, old_rev_id: 1, timestamp: Math.floor( now / 1000 ), byte_delta: 5 } ] } ),
	'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: 'patroller' },
	'GET /api/v1/workflows': [ { name: 'patrol', title: 'Patrol', kind: 'feed', open: 3, claimed: 1, wikis: [ { wiki: 'enwiki', open: 1, claimed: 0 }, { wiki: 'dewiki', open: 2, claimed: 1 } ] } ],
	'GET /api/v1/workflows/patrol/items': { items: ITEMS, next: null },
	'GET /api/v1/me/unread': { inbox: 0, threads: {}, rooms: {}, conversations: {} },
	'POST /api/v1/threads/enwiki-1/read': {}
} );

const shown = ( el ) => [ ...el.querySelectorAll( '[data-testid="item-row"]' ) ].map( ( r ) => r.getAttribute( 'data-item-id' ) );
const row = ( el, id ) => el.querySelector( `[data-testid="item-row"][data-item-id="${ id }"]` );

test( 'filters come from the URL, go back into it when changed, and are kept per person', async () => {
	fakeApi( routes() );
	page = await mountPage( '/queue/patrol?wiki=dewiki&sort=oldest&uselang=en', person() );
	startSync();
	await useQueuesStore().loadList( 'patrol' );
	const queues = useQueuesStore();
	await waitFor( () => shown( page.el ).length === 2, 'two rows' );
	expect( queues.filters.wiki ).toBe( 'dewiki' );
	expect( shown( page.el ) ).toEqual( [ 'dewiki-2', 'dewiki-3' ] );
	expect( page.el.querySelector( '[data-testid="filter-wiki"]' ).value ).toBe( 'dewiki' );
	expect( page.el.querySelector( '[data-testid="filter-sort"]' ).value ).toBe( 'oldest' );

	// A choice on the page goes into the URL, other parameters kept.
	const box = page.el.querySelector( '[data-testid="filter-hide-claimed"]' );
	box.checked = true;
	box.dispatchEvent( new Event( 'change' ) );
	await settle();
	expect( shown( page.el ) ).toEqual( [ 'dewiki-2' ] );
	expect( page.router.currentRoute.value.query ).toEqual( { uselang: 'en', wiki: 'dewiki', sort: 'oldest', hide_claimed: '1' } );
	expect( JSON.parse( localStorage.getItem( 'patrolchat.filters.Alice' ) ) ).toMatchObject( { wiki: 'dewiki', sort: 'oldest', hideClaimed: true } );

	// Opening an item keeps them in the URL.
	await page.router.push( { path: '/queue/patrol/item/dewiki-2', query: page.router.currentRoute.value.query } );
	await settle();
	expect( page.router.currentRoute.value.query ).toMatchObject( { wiki: 'dewiki', hide_claimed: '1' } );

	// Going to the list without filters in the URL brings her choice back.
	await page.router.push( '/queue/patrol' );
	await settle();
	await waitFor( () => page.router.currentRoute.value.query.wiki === 'dewiki', 'her wiki back in the URL' );
	expect( page.router.currentRoute.value.query ).toEqual( { wiki: 'dewiki', sort: 'oldest', hide_claimed: '1' } );
	expect( shown( page.el ) ).toEqual( [ 'dewiki-2' ] );
} );

test( 'what is typed in a range box survives renders until it is committed', async () => {
	fakeApi( routes() );
	page = await mountPage( '/queue/patrol', person() );
	startSync();
	await useQueuesStore().loadList( 'patrol' );
	await waitFor( () => shown( page.el ).length > 0, 'rows' );
	const bytes = page.el.querySelector( '[data-testid="filter-min-bytes"]' );
	bytes.value = '-1000000';
	bytes.dispatchEvent( new Event( 'input' ) );
	// Another filter changes (the URL, a render) before this one is committed.
	const box = page.el.querySelector( '[data-testid="filter-hide-claimed"]' );
	box.checked = true;
	box.dispatchEvent( new Event( 'change' ) );
	await settle();
	expect( page.el.querySelector( '[data-testid="filter-min-bytes"]' ).value ).toBe( '-1000000' );
	page.el.querySelector( '[data-testid="filter-min-bytes"]' ).dispatchEvent( new Event( 'change' ) );
	await settle();
	expect( page.router.currentRoute.value.query ).toMatchObject( { hide_claimed: '1', min_bytes: '-1000000' } );
	// Clearing the filters empties the box.
	page.el.querySelector( '[data-testid="filters-clear"]' ).click();
	await settle();
	expect( page.el.querySelector( '[data-testid="filter-min-bytes"]' ).value ).toBe( '' );
} );

test( 'a URL without filters and no saved choice shows everything, in queue order', async () => {
	fakeApi( routes() );
	localStorage.setItem( 'patrolchat.filters.Bob', JSON.stringify( { wiki: 'enwiki' } ) );
	page = await mountPage( '/queue/patrol', person() );
	startSync();
	await useQueuesStore().loadList( 'patrol' );
	await waitFor( () => shown( page.el ).length === 3, 'three rows' );
	expect( shown( page.el ) ).toEqual( [ 'enwiki-1', 'dewiki-2', 'dewiki-3' ] );
	expect( page.router.currentRoute.value.query ).toEqual( {} );
} );

test( 'a row shows its message count, unread until the discussion is seen (marked on the server), and counts new messages live', async () => {
	const api = fakeApi( routes() );
	page = await mountPage( '/queue/patrol', person() );
	startSync();
	await useQueuesStore().loadList( 'patrol' );
	await waitFor( () => shown( page.el ).length === 3, 'three rows' );
	const count = ( id ) => row( page.el, id ).querySelector( '[data-testid="row-messages"]' );
	expect( count( 'dewiki-2' ) ).toBe( null );
	expect( count( 'enwiki-1' ).textContent ).toContain( '3' );
	expect( count( 'enwiki-1' ).getAttribute( 'data-unread' ) ).toBe( 'true' );
	expect( count( 'enwiki-1' ).textContent ).toContain( 'some unread' );

	// The item open, its discussion on screen up to message 3: read, and
	// the server told so (not this browser's storage).
	await page.router.push( '/queue/patrol/item/enwiki-1' );
	useItemStore().openItem( 'enwiki-1' );
	await waitFor( () => count( 'enwiki-1' ).getAttribute( 'data-unread' ) === null || null, 'enwiki-1 read' );
	await waitFor( () => api.to( 'POST /api/v1/threads/enwiki-1/read' ).length === 1 || null, 'the read mark sent' );
	expect( api.to( 'POST /api/v1/threads/enwiki-1/read' )[ 0 ].body ).toEqual( { seq: 3 } );
	expect( localStorage.getItem( 'patrolchat.read.Alice' ) ).toBe( null );
	await page.router.push( '/queue/patrol' );
	useItemStore().closeItem();
	await settle();

	// A new message on another item: counted there, unread.
	useQueuesStore().messageNew( { id: 'dewiki-2.1', seq: 1, item: 'dewiki-2', author: 'Bob', text: 'x' } );
	useQueuesStore().messageNew( { id: 'dewiki-2.1', seq: 1, item: 'dewiki-2', author: 'Bob', text: 'x' } );
	await settle();
	expect( count( 'dewiki-2' ).textContent ).toContain( '1' );
	expect( count( 'dewiki-2' ).getAttribute( 'data-unread' ) ).toBe( 'true' );

	// A followed thread goes by the server's count: another device read it
	// all, then a new message makes it unread again.
	const unread = useUnreadStore();
	unread.counts.threads = { 'dewiki-2': 0 };
	await settle();
	expect( count( 'dewiki-2' ).getAttribute( 'data-unread' ) ).toBe( null );
	unread.messageNew( { id: 'dewiki-2.2', thread: 'dewiki-2', seq: 2, item: 'dewiki-2', author: 'Bob', text: 'y' } );
	await settle();
	expect( count( 'dewiki-2' ).getAttribute( 'data-unread' ) ).toBe( 'true' );
} );
