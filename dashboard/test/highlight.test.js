// A message opened from search, the inbox or a mention: its thread is read
// from its start when the message is older than the recent ones, it is
// scrolled to and focused once, and neither outlives its own thread (other
// items opened later are not read from their start, and new messages do
// not take the focus back to it).
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor, typeInto } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { useThreadsStore } from '../src/stores/threads.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

const msg = ( item, seq, author = 'Bob' ) => ( { id: `${ item }.${ seq }`, thread: item, item, wiki: 'enwiki', seq, author, text: `message ${ seq }`, at: Date.now() } );

test( 'the wanted message: its own thread read from the start, scrolled to and focused once', async () => {
	const api = fakeApi( {
		'GET /api/v1/items/enwiki-1': itemDetail( { messages: [ msg( 'enwiki-1', 9 ) ] } ),
		'GET /api/v1/items/enwiki-1/messages': [ msg( 'enwiki-1', 2 ), msg( 'enwiki-1', 9 ) ],
		'GET /api/v1/items/enwiki-3': itemDetail( { messages: [ msg( 'enwiki-3', 4 ) ] }, { id: 'enwiki-3', title: 'Three' } ),
		'GET /api/v1/items/enwiki-3/messages': [ msg( 'enwiki-3', 1 ), msg( 'enwiki-3', 4 ) ],
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: 'patroller' },
		'POST /api/v1/threads/enwiki-1/read': {},
		'POST /api/v1/threads/enwiki-3/read': {}
	} );
	page = await mountPage( '/queue/patrol', person() );
	const threads = useThreadsStore();
	const item = useItemStore();
	threads.openMessage( { thread: 'enwiki-1', item: 'enwiki-1', workflow: 'patrol', message: 'enwiki-1.2' } );
	item.openItem( 'enwiki-1' );
	const wanted = await waitFor( () => page.el.querySelector( '[data-testid="message"][data-message-id="enwiki-1.2"][data-highlighted="true"]' ), 'the wanted message' );
	expect( api.to( 'GET /api/v1/items/enwiki-1/messages' ) ).toHaveLength( 1 );
	await waitFor( () => document.activeElement === wanted || null, 'the focus on it' );

	// The person writes; a new message comes: the focus stays in the box.
	const box = await typeInto( page.el.querySelector( '[data-testid="message-input"]' ).closest( '.pc-thread__input' ), 'draft' );
	box.focus();
	threads.messageNew( msg( 'enwiki-1', 10 ) );
	await waitFor( () => page.el.querySelector( '[data-testid="message"][data-message-id="enwiki-1.10"]' ), 'the new message' );
	await settle();
	expect( document.activeElement ).toBe( box );

	// Another item: the wanted message is not in its thread, which is not read from its start.
	item.openItem( 'enwiki-3' );
	await waitFor( () => page.el.querySelector( '[data-testid="message"][data-message-id="enwiki-3.4"]' ), 'the other item' );
	await settle();
	expect( api.to( 'GET /api/v1/items/enwiki-3/messages' ) ).toHaveLength( 0 );
} );
