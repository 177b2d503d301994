// A person's role is per wiki: the item view says the viewer's role on the
// item's wiki (`viewer_role`) and offers only what that role may do; the
// header lists the wikis asked so far, with the role on each, and the
// global groups; the admin tools are offered to admins of some wiki.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeApi, reply, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { onKeydown } from '../src/keyboard.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { here } from './sources.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
	sessionStorage.clear();
} );

const MESSAGE = { id: 'm1', seq: 1, author: 'Bob', text: 'hello', at: Date.now(), item: 'enwiki-1' };

/** Opens enwiki-1 with the given viewer_role; gives the page and the fake api. */
async function openAs( viewerRole, { me = person(), detail = {} } = {} ) {
	const api = fakeApi( {
		'GET /api/v1/items/enwiki-1': itemDetail( { viewer_role: viewerRole, messages: [ MESSAGE ], ...detail } ),
		'GET /api/v1/items/enwiki-1/notes': [],
		'GET /api/v1/wikis': { default: { language: 'en', direction: 'ltr' }, wikis: {} },
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: viewerRole, groups: [], blocked: false, edit_count: 5, checked_at: 1 }
	} );
	page = await mountPage( '/queue/patrol/item/enwiki-1', me );
	useItemStore().openItem( 'enwiki-1' );
	const view = await waitFor( () => page.el.querySelector( '[data-testid="item-view"] [data-testid="viewer-role"]' ), 'the item view' );
	await settle();
	return { api, view: page.el.querySelector( '[data-testid="item-view"]' ), chip: view };
}

const has = ( root, id ) => !!root.querySelector( `[data-testid="${ id }"]` );

describe( 'the item view follows the role on the item\'s wiki', () => {
	test( 'a reader sees the role chip and no Claim, Resolve, Escalate or Hide', async () => {
		const { view, chip } = await openAs( 'reader', { me: person( { role: 'admin' } ) } );
		expect( chip.textContent.trim() ).toBe( 'reader on enwiki' );
		for ( const id of [ 'claim', 'resolve', 'escalate', 'take-over', 'message-hide', 'notes-panel' ] ) {
			expect( has( view, id ), id ).toBe( false );
		}
		expect( view.querySelector( '[data-testid="needs-role"]' ).textContent ).toContain( 'reader on enwiki' );
		// Report and Ignore stay for everyone.
		expect( has( view, 'message-report' ) ).toBe( true );
	} );

	test( 'a patroller sees Claim, Resolve and Escalate but no Hide, notes or take-over', async () => {
		const { view, chip } = await openAs( 'patroller' );
		expect( chip.textContent.trim() ).toBe( 'patroller on enwiki' );
		for ( const id of [ 'claim', 'fine', 'resolve', 'escalate', 'skip' ] ) {
			expect( has( view, id ), id ).toBe( true );
		}
		for ( const id of [ 'message-hide', 'notes-panel', 'take-over', 'needs-role' ] ) {
			expect( has( view, id ), id ).toBe( false );
		}
	} );

	test( 'while someone else holds the item, their name shows in place of Claim', async () => {
		const { view } = await openAs( 'patroller', {
			detail: { claim: { holder: 'Carol', expires_at: Date.now() + 100000 } }
		} );
		expect( has( view, 'claim' ) ).toBe( false );
		expect( view.querySelector( '[data-testid="claim-held-by"]' ).textContent.trim() ).toBe( 'Carol' );
		expect( has( view, 'take-over' ) ).toBe( false );
	} );

	test( 'an admin of the item\'s wiki sees the holder, Hide, notes and take-over, confirmed first', async () => {
		const { view, chip, api } = await openAs( 'admin', {
			me: person( { role: 'admin' } ),
			detail: { claim: { holder: 'Carol', expires_at: Date.now() + 100000 } }
		} );
		expect( chip.textContent.trim() ).toBe( 'admin on enwiki' );
		for ( const id of [ 'claim-held-by', 'resolve', 'escalate', 'message-hide', 'notes-panel', 'take-over' ] ) {
			expect( has( view, id ), id ).toBe( true );
		}
		api.calls.length = 0;
		const taken = { token: 7, expires_at: Date.now() + 300000, holder: 'Alice' };
		fakeApi( { 'POST /api/v1/items/enwiki-1/claim': taken } );
		view.querySelector( '[data-testid="take-over"]' ).click();
		await settle();
		// Nothing is sent before the admin confirms.
		expect( globalThis.fetch.mock.calls.some( ( [ , o ] ) => o && o.method === 'POST' ) ).toBe( false );
		const ask = view.querySelector( '[data-testid="take-over-confirm"]' );
		expect( ask.textContent ).toContain( 'Carol holds this item' );
		expect( ask.contains( document.activeElement ) ).toBe( true );
		ask.querySelector( '[data-testid="take-over-yes"]' ).click();
		await settle();
		const post = globalThis.fetch.mock.calls.find( ( [ , o ] ) => o && o.method === 'POST' );
		expect( JSON.parse( post[ 1 ].body ) ).toEqual( { take_over: true } );
	} );

	test( 'an admin elsewhere who is a reader here gets no moderation here', async () => {
		const { view } = await openAs( 'reader', { me: person( { role: 'admin', wikis: { dewiki: { role: 'admin', groups: [ 'sysop' ], blocked: false, checked_at: 1 } } } ) } );
		expect( has( view, 'message-hide' ) ).toBe( false );
		expect( has( view, 'notes-panel' ) ).toBe( false );
	} );

	test( 'the shortcuts of actions not offered do nothing but say why', async () => {
		const { api } = await openAs( 'reader' );
		for ( const key of [ 'c', 'r', 'e' ] ) {
			onKeydown( new KeyboardEvent( 'keydown', { key, bubbles: true, cancelable: true } ) );
			await settle();
			expect( useItemStore().current.form, key ).toBe( null );
		}
		expect( api.to( 'POST /api/v1/items/enwiki-1/claim' ) ).toEqual( [] );
		const notice = page.el.querySelector( '[data-testid="notice"]' );
		expect( notice.textContent ).toContain( 'This needs the patroller role on enwiki.' );
	} );

	test( 'the shortcuts work for a patroller', async () => {
		await openAs( 'patroller' );
		fakeApi( { 'POST /api/v1/items/enwiki-1/claim': { token: 1, expires_at: Date.now() + 300000, holder: 'Alice' } } );
		onKeydown( new KeyboardEvent( 'keydown', { key: 'r', bubbles: true, cancelable: true } ) );
		expect( useItemStore().current.form ).toBe( 'resolve' );
		useItemStore().current.form = null;
		onKeydown( new KeyboardEvent( 'keydown', { key: 'c', bubbles: true, cancelable: true } ) );
		await settle();
		expect( globalThis.fetch.mock.calls.some( ( [ u, o ] ) => u === '/api/v1/items/enwiki-1/claim' && o.method === 'POST' ) ).toBe( true );
	} );
} );

describe( 'refusals say why, in the notice area', () => {
	test( 'a claim refused as forbidden says why in the interface language, not the api\'s English', async () => {
		const { view } = await openAs( 'patroller' );
		fakeApi( {
			'POST /api/v1/items/enwiki-1/claim': reply( 403, { error: { code: 'forbidden', message: 'you are not a patroller on dewiki', needs: 'patroller', wiki: 'dewiki' } } )
		} );
		view.querySelector( '[data-testid="claim"]' ).click();
		await settle();
		const notice = page.el.querySelector( '[data-testid="notice"]' );
		expect( notice.textContent ).toContain( 'This needs the patroller role on dewiki.' );
		expect( notice.textContent ).not.toContain( 'you are not a patroller' );
		// The notice lies over the page: it is not inside the views it would
		// push, takes no room, and its message is laid over them.
		expect( page.el.querySelector( 'main' ).contains( notice ) ).toBe( false );
		const css = readFileSync( join( here, '../src/app.css' ), 'utf8' );
		const rule = ( sel ) => ( css.match( new RegExp( `\\n${ sel.replace( /\./g, '\\.' ) } \\{([^}]*)\\}` ) ) || [] )[ 1 ] || '';
		expect( rule( '.pc-notice' ) ).toMatch( /block-size: 0;/ );
		expect( rule( '.pc-notice__stack' ) ).toMatch( /position: absolute;/ );
	} );

	test( 'a refused post names the wiki of a block, or every wiki', async () => {
		const { view } = await openAs( 'patroller' );
		const refusals = [
			[ { code: 'blocked', message: 'blocked', reason: 'vandalism', wiki: 'dewiki' }, 'You are blocked on dewiki and may only read there: vandalism' ],
			[ { code: 'blocked', message: 'blocked', reason: 'spam', wiki: '*' }, 'You are blocked on every wiki and may only read: spam' ],
			[ { code: 'muted', message: 'muted: too loud', reason: 'too loud', wiki: 'enwiki' }, 'You are muted on enwiki: too loud' ]
		];
		for ( const [ error, text ] of refusals ) {
			fakeApi( { 'POST /api/v1/items/enwiki-1/messages': reply( 403, { error } ) } );
			const form = view.querySelector( '.pc-thread__form' );
			const box = form.querySelector( 'textarea' );
			box.value = 'hi';
			box.dispatchEvent( new Event( 'input', { bubbles: true } ) );
			await settle();
			form.dispatchEvent( new Event( 'submit', { bubbles: true, cancelable: true } ) );
			await settle();
			expect( [ ...page.el.querySelectorAll( '[data-testid="notice"]' ) ].pop().textContent ).toContain( text );
			expect( box.value ).toBe( 'hi' );
		}
	} );

	test( 'a message hidden by an unnamed moderator says which community', async () => {
		const { view } = await openAs( 'admin', {
			me: person( { role: 'admin' } ),
			detail: { messages: [ { ...MESSAGE, hidden: { by: null, reason: 'rude', at: 1 } } ] }
		} );
		expect( view.querySelector( '[data-testid="message-hidden-by"]' ).textContent ).toContain( 'hidden by a moderator of enwiki: rude' );
	} );
} );

describe( 'the header', () => {
	const me = person( {
		role: 'admin',
		wikis: {
			enwiki: { role: 'patroller', groups: [ 'patroller' ], blocked: false, checked_at: 1 },
			dewiki: { role: 'admin', groups: [ 'sysop' ], blocked: false, checked_at: 1 },
			frwiki: { role: 'reader', groups: [], blocked: true, checked_at: 1 }
		},
		global_groups: [ 'steward' ]
	} );

	test( 'lists the wikis asked so far with the role on each, and the global groups', async () => {
		fakeApi( { 'GET /api/v1/wikis': { wikis: {} } } );
		page = await mountPage( '/queue/patrol', me );
		const rows = [ ...page.el.querySelectorAll( '[data-testid="my-wikis"] [data-testid="my-wiki"]' ) ];
		expect( rows.map( ( r ) => [ r.dataset.wiki, r.dataset.role ] ) ).toEqual( [ [ 'dewiki', 'admin' ], [ 'enwiki', 'patroller' ], [ 'frwiki', 'reader' ] ] );
		expect( rows[ 1 ].textContent ).toContain( 'patroller' );
		expect( rows[ 2 ].textContent ).toContain( 'blocked' );
		expect( page.el.querySelector( '[data-testid="global-groups"]' ).textContent ).toContain( 'steward' );
	} );

	test( 'a wiki opened later joins the list with the role the api gave', async () => {
		const { view } = await openAs( 'patroller', { me: person( { role: 'patroller' } ) } );
		expect( view ).toBeTruthy();
		const rows = [ ...page.el.querySelectorAll( '[data-testid="my-wiki"]' ) ];
		expect( rows.map( ( r ) => [ r.dataset.wiki, r.dataset.role ] ) ).toEqual( [ [ 'enwiki', 'patroller' ] ] );
	} );

	test( 'offers the admin tools only to an admin of some wiki', async () => {
		fakeApi( { 'GET /api/v1/wikis': { wikis: {} } } );
		page = await mountPage( '/queue/patrol', me );
		expect( page.el.querySelector( '[data-testid="admin-link"]' ) ).not.toBeNull();
		page.unmount();
		page = await mountPage( '/queue/patrol', person( { role: 'patroller', wikis: { enwiki: { role: 'patroller', groups: [], blocked: false, checked_at: 1 } } } ) );
		expect( page.el.querySelector( '[data-testid="admin-link"]' ) ).toBeNull();
	} );
} );
