// Wikidata items say what their entity is: the open item asks the api for
// the label in the page's language, once, and shows it as text; other
// items ask nothing.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
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

test( 'a label is text, and other items ask for none', async () => {
	const api = fakeApi( {
		'GET /api/v1/items/wikidatawiki-2': itemDetail( {}, wd( 'wikidatawiki-2', 'Q64' ) ),
		'GET /api/v1/items/wikidatawiki-2/label': labelRoute,
		'GET /api/v1/items/enwiki-4': itemDetail( {}, { id: 'enwiki-4', title: 'Q42' } )
	} );
	page = await mountPage( '/queue/patrol/item/wikidatawiki-2', person() );
	useItemStore().openItem( 'wikidatawiki-2' );
	const label = await waitFor( () => page.el.querySelector( '[data-testid="entity-label"]' ), 'the label' );
	expect( label.textContent ).toBe( '<img src=x onerror=alert(1)>' );
	expect( label.querySelector( 'img' ) ).toBe( null );
	await page.router.push( '/queue/patrol/item/enwiki-4' );
	useItemStore().openItem( 'enwiki-4' );
	await waitFor( () => page.el.querySelector( '[data-testid="item-view"][data-item-id="enwiki-4"] [data-testid="item-title"]' ), 'enwiki-4' );
	await settle();
	expect( page.el.querySelector( '[data-testid="entity-label"]' ) ).toBe( null );
	expect( api.calls.filter( ( c ) => c.path.endsWith( '/label' ) ).map( ( c ) => c.url ) ).toEqual( [ '/api/v1/items/wikidatawiki-2/label?lang=en' ] );
} );
