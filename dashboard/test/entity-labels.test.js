// Wikidata items say what their entity is: the list's rows on screen and
// the open item ask the api for the label in the page's language, once,
// and show it as text; other items ask nothing.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { useQueuesStore } from '../src/stores/queues.js';
import { isEntity } from '../src/stores/labels.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

const wd = ( id, title, namespace = 0 ) => ( { id, wiki: 'wikidatawiki', title, namespace, kind: 'edit', user: 'Bot', performer: 'account', priority: 1, created_at: Date.now(), workflows: [ 'patrol' ] } );
const LABELS = {
	'wikidatawiki-1': { label: 'Douglas Adams', lang: 'en' },
	'wikidatawiki-2': { label: '<img src=x onerror=alert(1)>', lang: 'en' },
	'wikidatawiki-3': { label: null, lang: null }
};
const labelRoute = ( req ) => LABELS[ req.path.split( '/' )[ 4 ] ];

test( 'which pages are entities', () => {
	expect( isEntity( wd( 'a', 'Q42' ) ) ).toBe( true );
	expect( isEntity( wd( 'a', 'Property:P31', 120 ) ) ).toBe( true );
	expect( isEntity( { ...wd( 'a', 'Q42' ), wiki: 'enwiki' } ) ).toBe( false );
	expect( isEntity( wd( 'a', 'Q42', 1 ) ) ).toBe( false );
	expect( isEntity( wd( 'a', 'Q042' ) ) ).toBe( false );
	expect( isEntity( wd( 'a', 'Wikidata:Main Page' ) ) ).toBe( false );
} );

test( 'rows on screen show their entity\'s label as text, asked once each', async () => {
	const api = fakeApi( {
		'GET /api/v1/workflows/patrol/items': { items: [
			{ item: wd( 'wikidatawiki-1', 'Q42' ), state: 'open' },
			{ item: wd( 'wikidatawiki-2', 'Q64' ), state: 'open' },
			{ item: wd( 'wikidatawiki-3', 'Q999' ), state: 'open' },
			{ item: { ...wd( 'enwiki-4', 'Q42' ), wiki: 'enwiki' }, state: 'open' }
		], next: null },
		'GET /api/v1/items/wikidatawiki-1/label': labelRoute,
		'GET /api/v1/items/wikidatawiki-2/label': labelRoute,
		'GET /api/v1/items/wikidatawiki-3/label': labelRoute
	} );
	page = await mountPage( '/queue/patrol', person() );
	await useQueuesStore().loadList( 'patrol' );
	const label = ( id ) => page.el.querySelector( `[data-testid="item-row"][data-item-id="${ id }"] [data-testid="row-label"]` );
	await waitFor( () => label( 'wikidatawiki-1' ), 'the first label' );
	await settle();
	expect( label( 'wikidatawiki-1' ).textContent ).toBe( 'Douglas Adams' );
	expect( label( 'wikidatawiki-1' ).getAttribute( 'lang' ) ).toBe( 'en' );
	expect( label( 'wikidatawiki-2' ).textContent ).toBe( '<img src=x onerror=alert(1)>' );
	expect( page.el.querySelector( 'img[src="x"]' ) ).toBe( null );
	expect( label( 'wikidatawiki-3' ) ).toBe( null );
	expect( label( 'enwiki-4' ) ).toBe( null );
	const asked = api.calls.filter( ( c ) => c.path.endsWith( '/label' ) );
	expect( asked.map( ( c ) => c.path ).sort() ).toEqual( [ 1, 2, 3 ].map( ( n ) => `/api/v1/items/wikidatawiki-${ n }/label` ) );
	expect( asked.every( ( c ) => c.url.endsWith( '?lang=en' ) ) ).toBe( true );
	// Rows rendered again ask nothing more.
	useQueuesStore().list.cursor = 1;
	await settle();
	expect( api.calls.filter( ( c ) => c.path.endsWith( '/label' ) ) ).toHaveLength( 3 );
} );

test( 'the open item shows its entity\'s label beside the Q-number', async () => {
	fakeApi( {
		'GET /api/v1/items/wikidatawiki-1': itemDetail( {}, wd( 'wikidatawiki-1', 'Q42' ) ),
		'GET /api/v1/items/wikidatawiki-1/label': labelRoute
	} );
	page = await mountPage( '/queue/patrol/item/wikidatawiki-1', person() );
	useItemStore().openItem( 'wikidatawiki-1' );
	const label = await waitFor( () => page.el.querySelector( '[data-testid="entity-label"]' ), 'the label' );
	expect( label.textContent ).toBe( 'Douglas Adams' );
	expect( page.el.querySelector( '[data-testid="item-title"]' ).textContent ).toBe( 'Q42' );
} );
