// Search: the header's box and `/`, the results view with the query
// language's operators, snippets rendered as text with the matching words
// in <mark> (never as HTML), ignored people's results collapsed, more
// pages, a malformed query's reason, and opening a result in its thread.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, reply, mountPage, settle, waitFor } from './harness.js';
import { OPERATORS, snippetParts, targetOf } from '../src/search.js';
import { useThreadsStore } from '../src/stores/threads.js';
import { onKeydown } from '../src/keyboard.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

test( 'snippets are parts of text; anything else is dropped', () => {
	expect( snippetParts( [ { text: 'a ', hit: false }, { text: '<b>x</b>', hit: true }, { text: 3 }, null, { text: '' } ] ) )
		.toEqual( [ { text: 'a ', hit: false }, { text: '<b>x</b>', hit: true } ] );
	expect( snippetParts( '<img src=x onerror=alert(1)>' ) ).toEqual( [] );
	expect( targetOf( { kind: 'message', id: 'enwiki-1.2', thread: 'enwiki-1', item: 'enwiki-1' } ) ).toMatchObject( { thread: 'enwiki-1', item: 'enwiki-1', message: 'enwiki-1.2' } );
	expect( targetOf( { kind: 'user', id: 'Bob Smith' } ) ).toEqual( { search: 'from:"Bob Smith"' } );
} );

const RESULTS = {
	results: [
		{ kind: 'message', id: 'enwiki-1.2', thread: 'enwiki-1', item: 'enwiki-1', wiki: 'enwiki', author: 'Bob', title: 'Foo', at: Date.now(), snippet: [ { text: 'the ', hit: false }, { text: 'vandal', hit: true }, { text: ' <script>alert(1)</script>', hit: false } ] },
		{ kind: 'message', id: 'enwiki-1.3', thread: 'enwiki-1', item: 'enwiki-1', author: 'Mallory', at: Date.now(), snippet: [], collapsed: true }
	],
	next_cursor: 'c2'
};

test( 'results show marked words as text, operators are hinted, ignored people collapse, more pages come, and a result opens its message', async () => {
	const api = fakeApi( {
		'GET /api/v1/search': ( req ) => ( req.url.includes( 'cursor=c2' ) ?
			{ results: [ { kind: 'item', id: 'dewiki-9', item: 'dewiki-9', title: 'Bar', at: Date.now(), snippet: [ { text: 'Bar', hit: true } ] } ] } :
			RESULTS ),
		'GET /api/v1/workflows': []
	} );
	page = await mountPage( '/search?q=vandal', person() );
	await waitFor( () => page.el.querySelectorAll( '[data-testid="search-result"]' ).length === 2 || null, 'two results' );
	expect( api.to( 'GET /api/v1/search' )[ 0 ].url ).toContain( 'q=vandal' );
	const first = page.el.querySelector( '[data-testid="search-snippet"]' );
	expect( [ ...first.querySelectorAll( 'mark' ) ].map( ( m ) => m.textContent ) ).toEqual( [ 'vandal' ] );
	expect( first.textContent ).toBe( 'the vandal <script>alert(1)</script>' );
	expect( page.el.querySelector( 'script' ) ).toBe( null );
	expect( first.querySelectorAll( '*' ).length ).toBe( 1 );
	// The operators, each with what it does.
	const ops = page.el.querySelectorAll( '[data-testid="search-hint"] dt' );
	expect( ops.length ).toBe( OPERATORS.length );
	expect( page.el.querySelector( '[data-testid="search-hint"]' ).textContent ).toContain( 'from:Name' );
	// The ignored person's result: collapsed, without text.
	const collapsed = page.el.querySelectorAll( '[data-testid="search-result"]' )[ 1 ];
	expect( collapsed.querySelector( '[data-testid="search-result-collapsed"]' ) ).not.toBe( null );
	expect( collapsed.querySelector( '[data-testid="search-snippet"]' ) ).toBe( null );
	// The header's box shows the query.
	expect( page.el.querySelector( '[data-testid="search-input"]' ).value ).toBe( 'vandal' );
	// More.
	page.el.querySelector( '[data-testid="search-more"]' ).click();
	await waitFor( () => page.el.querySelectorAll( '[data-testid="search-result"]' ).length === 3 || null, 'the next page' );
	expect( page.el.querySelector( '[data-testid="search-more"]' ) ).toBe( null );
	// Opening the first: its item, the message marked.
	page.el.querySelector( '[data-testid="search-result-open"]' ).click();
	await settle();
	expect( page.router.currentRoute.value.path ).toBe( '/item/enwiki-1' );
	expect( useThreadsStore().highlight ).toBe( 'enwiki-1.2' );
} );

test( 'a malformed query shows the reason in the interface language; the header box and / start a search', async () => {
	fakeApi( {
		'GET /api/v1/search': reply( 400, { error: { code: 'bad_query', message: 'a quote is not closed (api English)', reason: 'quote_not_closed', detail: null } } ),
		'GET /api/v1/workflows': []
	} );
	page = await mountPage( '/admin', person() );
	// `/` where no message box is: the search box.
	const box = page.el.querySelector( '[data-testid="search-input"]' );
	onKeydown( new KeyboardEvent( 'keydown', { key: '/', code: 'Slash' } ) );
	expect( document.activeElement ).toBe( box );
	box.value = '"oops';
	box.dispatchEvent( new Event( 'input' ) );
	box.closest( 'form' ).dispatchEvent( new Event( 'submit' ) );
	// The search view is a chunk of its own: the route changes once it is here.
	await waitFor( () => page.router.currentRoute.value.path === '/search' || null, 'the search route' );
	expect( page.router.currentRoute.value.query.q ).toBe( '"oops' );
	const err = await waitFor( () => page.el.querySelector( '[data-testid="search-error"]' ), 'the error' );
	expect( err.getAttribute( 'data-code' ) ).toBe( 'bad_query' );
	expect( err.textContent ).toContain( 'This search cannot be read: a quote is not closed' );
	expect( err.textContent ).not.toContain( 'api English' );
} );
