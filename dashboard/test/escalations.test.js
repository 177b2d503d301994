// What an admin needs in the item: an escalation's reason and author (as
// text), the wiki's page for the action (an https link with rel=noopener,
// nothing else), the resolve form with the item's own outcomes; and the
// escalations made from an item, whose outcome arrives live.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
	sessionStorage.clear();
} );

const ESC = 'enwiki-1-esc-admin-block';
const HOSTILE = 'please block <img src=x onerror="window.__pwned=1"> now';

/** Opens `id` with the given detail; gives the item view. */
async function open( id, detail, item ) {
	fakeApi( {
		[ `GET /api/v1/items/${ id }` ]: itemDetail( { viewer_role: 'admin', ...detail }, { id, ...item } ),
		[ `GET /api/v1/items/${ id }/notes` ]: [],
		'GET /api/v1/wikis': { default: { language: 'en', direction: 'ltr' }, wikis: {} },
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: 'admin', groups: [ 'sysop' ], blocked: false, edit_count: 5, checked_at: 1 }
	} );
	page = await mountPage( `/item/${ id }`, person( { name: 'Ada', role: 'admin' } ) );
	useItemStore().openItem( id );
	const view = await waitFor( () => page.el.querySelector( `[data-testid="item-view"][data-item-id="${ id }"] [data-testid="viewer-role"]` ), 'the item view' );
	await settle();
	return view.closest( '[data-testid="item-view"]' );
}

const escalation = ( over = {} ) => open( ESC, {
	outcomes: [ 'blocked', 'declined', 'not_needed' ],
	action_url: 'https://en.wikipedia.org/wiki/Special:Block/Bob',
	action_page: 'block',
	...over
}, { kind: 'escalation', workflows: [ 'admin-block' ], linked: 'enwiki-1', reason: HOSTILE, requested_by: 'Pat' } );

describe( 'an escalated item', () => {
	test( 'shows its reason and author as text, and links to the wiki\'s block page', async () => {
		const view = await escalation();
		const reason = view.querySelector( '[data-testid="item-reason"]' );
		expect( reason.textContent ).toBe( HOSTILE );
		expect( reason.querySelector( 'img' ) ).toBeNull();
		expect( window.__pwned ).toBeUndefined();
		expect( view.querySelector( '[data-testid="item-requested-by"]' ).textContent.trim() ).toBe( 'Pat' );
		const link = view.querySelector( '[data-testid="action-page"]' );
		expect( link.getAttribute( 'href' ) ).toBe( 'https://en.wikipedia.org/wiki/Special:Block/Bob' );
		expect( link.getAttribute( 'rel' ).split( ' ' ) ).toContain( 'noopener' );
		expect( link.textContent.trim() ).toBe( 'Block Bob on the wiki' );
	} );

	test( 'links out only over https', async () => {
		const view = await escalation( { action_url: 'javascript:alert(1)' } );
		expect( view.querySelector( '[data-testid="action-page"]' ) ).toBeNull();
	} );

	test( 'offers its workflow\'s outcomes to resolve with', async () => {
		const view = await escalation();
		view.querySelector( '[data-testid="resolve"]' ).click();
		const select = await waitFor( () => view.querySelector( '[data-testid="resolve-outcome"]' ), 'the outcome select' );
		expect( [ ...select.options ].map( ( o ) => o.value ) ).toEqual( [ 'blocked', 'declined', 'not_needed' ] );
		expect( select.value ).toBe( 'blocked' );
	} );
} );

describe( 'the item an escalation came from', () => {
	test( 'links to it and shows its outcome when the admins answer', async () => {
		const view = await open( 'enwiki-1', {
			state: 'resolved', outcome: 'escalated', resolved_by: 'Pat',
			escalations: [ { id: ESC, workflow: 'admin-block', state: 'open' } ]
		} );
		const entry = view.querySelector( '[data-testid="item-escalation"]' );
		expect( entry.getAttribute( 'data-state' ) ).toBe( 'open' );
		expect( entry.querySelector( 'a' ).getAttribute( 'href' ) ).toBe( `/queue/admin-block/item/${ ESC }` );
		useItemStore().applyFrame( {
			type: 'item.resolved', item: ESC, wiki: 'enwiki', workflows: [ 'admin-block' ],
			by: { name: 'Ada', on_wiki: false }, outcome: 'blocked', at: Date.now()
		} );
		await settle();
		const after = view.querySelector( '[data-testid="item-escalation"]' );
		expect( after.getAttribute( 'data-outcome' ) ).toBe( 'blocked' );
		expect( after.textContent ).toContain( 'user blocked' );
	} );
} );
