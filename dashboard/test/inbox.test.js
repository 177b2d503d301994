// The inbox: entries newest first with unread marked, the header's badge,
// "Mark all read", a new entry arriving live, and opening one opening its
// message; the notification settings ask the browser only on opting in.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, mountPage, settle, waitFor } from './harness.js';
import { useUnreadStore } from '../src/stores/unread.js';
import { useThreadsStore } from '../src/stores/threads.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

const ENTRIES = [
	{ id: 'e2', kind: 'mention', thread: 'enwiki-1', item: 'enwiki-1', wiki: 'enwiki', workflow: 'patrol', message: 'enwiki-1.2', by: 'Bob', excerpt: '@Alice <script>x</script>', at: Date.now(), read: false },
	{ id: 'e1', kind: 'resolution', thread: 'enwiki-3', item: 'enwiki-3', by: 'Carol', outcome: 'reverted', at: Date.now() - 1000, read: true }
];

test( 'entries, the badge, mark all read, a live entry, opening one; notifications asked for only on opting in', async () => {
	const asked = vi.fn( async () => 'granted' );
	vi.stubGlobal( 'Notification', class {
		static permission = 'default';
		static requestPermission = asked;
	} );
	const api = fakeApi( {
		'GET /api/v1/me/inbox': { entries: ENTRIES, unread: 1 },
		'POST /api/v1/me/inbox/read': {},
		'GET /api/v1/me/unread': { inbox: 0, threads: {}, rooms: {}, conversations: {} }
	} );
	page = await mountPage( '/inbox', person() );
	await waitFor( () => page.el.querySelectorAll( '[data-testid="inbox-entry"]' ).length === 2 || null, 'two entries' );
	const [ first, second ] = page.el.querySelectorAll( '[data-testid="inbox-entry"]' );
	expect( first.getAttribute( 'data-read' ) ).toBe( 'false' );
	expect( first.textContent ).toContain( 'Bob mentioned you' );
	expect( first.textContent ).toContain( '@Alice <script>x</script>' );
	expect( first.querySelector( 'script' ) ).toBe( null );
	expect( second.textContent ).toContain( 'Carol resolved it: reverted' );
	expect( page.el.querySelector( '[data-testid="inbox-badge"]' ).textContent ).toContain( '1' );
	expect( asked ).not.toHaveBeenCalled();

	// A new one, live.
	useUnreadStore().frame( { type: 'inbox.new', entry: { id: 'e3', kind: 'reply', thread: 'enwiki-1', item: 'enwiki-1', message: 'enwiki-1.3', by: 'Dan', at: Date.now(), read: false } } );
	await settle();
	expect( page.el.querySelectorAll( '[data-testid="inbox-entry"]' )[ 0 ].textContent ).toContain( 'Dan replied' );
	expect( page.el.querySelector( '[data-testid="inbox-badge"]' ).textContent ).toContain( '2' );

	// Mark all read. The counts are read again once, on the `inbox.read` frame that follows.
	const reads = api.to( 'GET /api/v1/me/unread' ).length;
	page.el.querySelector( '[data-testid="inbox-read-all"]' ).click();
	await waitFor( () => api.to( 'POST /api/v1/me/inbox/read' ).length === 1 || null, 'marked on the server' );
	await settle();
	expect( page.el.querySelector( '[data-testid="inbox-badge"]' ) ).toBe( null );
	expect( [ ...page.el.querySelectorAll( '[data-testid="inbox-entry"]' ) ].every( ( e ) => e.getAttribute( 'data-read' ) === 'true' ) ).toBe( true );
	expect( api.to( 'GET /api/v1/me/unread' ) ).toHaveLength( reads );
	useUnreadStore().frame( { type: 'inbox.read' } );
	await waitFor( () => api.to( 'GET /api/v1/me/unread' ).length === reads + 1 || null, 'the counts read again' );

	// Opting in asks the browser, once.
	const box = page.el.querySelector( '[data-testid="notify-mention"]' );
	box.checked = true;
	box.dispatchEvent( new Event( 'change' ) );
	await settle();
	expect( asked ).toHaveBeenCalledTimes( 1 );
	expect( JSON.parse( localStorage.getItem( 'patrolchat.notify.Alice' ) ).mention ).toBe( true );

	// Opening the mention: its item, the message marked.
	page.el.querySelectorAll( '[data-testid="inbox-open"]' )[ 1 ].click();
	await settle();
	expect( page.router.currentRoute.value.path ).toBe( '/queue/patrol/item/enwiki-1' );
	expect( useThreadsStore().highlight ).toBe( 'enwiki-1.2' );
} );
