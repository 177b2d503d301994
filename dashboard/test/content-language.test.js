// What comes from a wiki (titles, edit summaries) carries that wiki's
// content language and direction from `GET /api/v1/wikis` (read once), so
// that a Hebrew title reads right to left inside an English page.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { useQueuesStore } from '../src/stores/queues.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

// As the api answers: the wikis listed, each naming itself.
const WIKIS = {
	default: { language: 'en', direction: 'ltr', conduct_url: null, moderator_name: 'hidden' },
	wikis: [
		{ wiki: 'hewiki', language: 'he', direction: 'rtl', conduct_url: 'https://he.wikipedia.org/wiki/CoC', moderator_name: 'hidden' },
		{ wiki: 'dewiki', language: 'de', direction: 'ltr' }
	]
};

const HE_ITEM = {
	id: 'hewiki-5', wiki: 'hewiki', title: 'ירושלים', server_url: 'https://he.wikipedia.org',
	revisions: [
		{ rev_id: 9, old_rev_id: 8, timestamp: Math.floor( Date.now() / 1000 ), comment: 'תיקון קישור', byte_delta: -4 },
		{ rev_id: 8, old_rev_id: 7, timestamp: Math.floor( Date.now() / 1000 ) - 60, comment: 'הוספת מקור', byte_delta: 30 }
	]
};

test( 'the item view gives the title and summaries their wiki\'s lang and dir', async () => {
	const api = fakeApi( {
		'GET /api/v1/wikis': WIKIS,
		'GET /api/v1/items/hewiki-5': itemDetail( {}, HE_ITEM ),
		'GET /api/v1/me/wikis/hewiki': { wiki: 'hewiki', role: 'patroller' }
	} );
	page = await mountPage( '/queue/patrol/item/hewiki-5', person() );
	useItemStore().openItem( 'hewiki-5' );
	const title = await waitFor( () => page.el.querySelector( '[data-testid="item-title"]' ), 'the title' );
	await settle();
	expect( title.textContent ).toBe( 'ירושלים' );
	expect( title.getAttribute( 'lang' ) ).toBe( 'he' );
	expect( title.getAttribute( 'dir' ) ).toBe( 'rtl' );
	const summary = page.el.querySelector( '[data-testid="item-summary"]' );
	expect( summary.textContent ).toBe( 'תיקון קישור' );
	expect( summary.getAttribute( 'lang' ) ).toBe( 'he' );
	expect( summary.getAttribute( 'dir' ) ).toBe( 'rtl' );
	// The newest summary shows once, as the Summary; the older revision's in the list.
	expect( page.el.textContent.split( 'תיקון קישור' ) ).toHaveLength( 2 );
	const revs = page.el.querySelectorAll( '.pc-revision__comment' );
	expect( [ ...revs ].map( ( r ) => r.textContent ) ).toEqual( [ 'הוספת מקור' ] );
	expect( [ revs[ 0 ].getAttribute( 'lang' ), revs[ 0 ].getAttribute( 'dir' ) ] ).toEqual( [ 'he', 'rtl' ] );
	// The interface stays English, left to right.
	expect( document.documentElement.dir ).not.toBe( 'rtl' );
	// Read once, however many views ask.
	expect( api.to( 'GET /api/v1/wikis' ) ).toHaveLength( 1 );
} );

test( 'list rows carry their wiki\'s lang and dir; an unknown wiki gets the default', async () => {
	const view = ( item, extra = {} ) => ( { item: { namespace: 0, kind: 'edit', user: 'Bob', performer: 'account', priority: 10, created_at: Date.now(), ...item }, claim: null, ...extra } );
	fakeApi( {
		'GET /api/v1/wikis': WIKIS,
		'GET /api/v1/workflows/patrol/items': { items: [
			view( HE_ITEM ),
			view( { id: 'dewiki-1', wiki: 'dewiki', title: 'Berlin', revisions: [ { comment: 'Typo' } ] } ),
			view( { id: 'xxwiki-1', wiki: 'xxwiki', title: 'Elsewhere', revisions: [ { comment: 'huh' } ] } )
		], next: null }
	} );
	page = await mountPage( '/queue/patrol', person() );
	await useQueuesStore().loadList( 'patrol' );
	await settle();
	const attrs = ( id ) => {
		const row = page.el.querySelector( `[data-testid="item-row"][data-item-id="${ id }"]` );
		return [ '.pc-row__title', '.pc-row__summary' ].map( ( sel ) => {
			const el = row.querySelector( sel );
			return [ el.getAttribute( 'lang' ), el.getAttribute( 'dir' ) ];
		} );
	};
	expect( attrs( 'hewiki-5' ) ).toEqual( [ [ 'he', 'rtl' ], [ 'he', 'rtl' ] ] );
	expect( attrs( 'dewiki-1' ) ).toEqual( [ [ 'de', 'ltr' ], [ 'de', 'ltr' ] ] );
	expect( attrs( 'xxwiki-1' ) ).toEqual( [ [ 'en', 'ltr' ], [ 'en', 'ltr' ] ] );
} );

test( 'without the wikis\' settings, content is left to find its own direction', async () => {
	fakeApi( {
		'GET /api/v1/items/hewiki-5': itemDetail( {}, HE_ITEM )
	} );
	page = await mountPage( '/queue/patrol/item/hewiki-5', person() );
	useItemStore().openItem( 'hewiki-5' );
	const title = await waitFor( () => page.el.querySelector( '[data-testid="item-title"]' ), 'the title' );
	await settle();
	expect( title.hasAttribute( 'lang' ) ).toBe( false );
	expect( title.getAttribute( 'dir' ) ).toBe( 'auto' );
} );
