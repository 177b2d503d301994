// One key per decision: keys bound by physical position (so they work in
// Hebrew, Arabic and Cyrillic layouts), each decision opening the next
// item of the list, keys a person changes and keeps; an admin resolving
// someone else's held item confirms a take-over first; notices of
// mentions stay until read and count in the tab's title.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { useQueuesStore } from '../src/stores/queues.js';
import { useThreadsStore } from '../src/stores/threads.js';
import { onKeydown } from '../src/keyboard.js';
import { actionOf, comboOf, keys, loadKeys, setKey, resetKeys, DEFAULT_KEYS } from '../src/keymap.js';
import { keyLabel } from '../src/keylabel.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
	sessionStorage.clear();
	localStorage.clear();
	loadKeys( null );
} );

const view = ( id, title, extra = {} ) => ( {
	item: { id, wiki: 'enwiki', title, namespace: 0, kind: 'edit', user: 'Bob', performer: 'account', priority: 10, created_at: Date.now(), workflows: [ 'patrol' ] },
	claim: null, ...extra
} );

/** A list of three items, the first open; the fake api resolves and claims. */
async function openFirst( { me = person(), detail = {}, list = null } = {} ) {
	const api = fakeApi( {
		'GET /api/v1/workflows/patrol/items': { items: list || [ view( 'enwiki-1', 'One' ), view( 'enwiki-2', 'Two', { claim: { holder: 'Carol', expires_at: Date.now() + 100000 } } ), view( 'enwiki-3', 'Three' ) ], next: null },
		'GET /api/v1/items/enwiki-1': itemDetail( detail ),
		'GET /api/v1/items/enwiki-1/notes': [],
		'GET /api/v1/wikis': { default: { language: 'en', direction: 'ltr' }, wikis: {} },
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: detail.viewer_role || 'patroller', groups: [], blocked: false, checked_at: 1 },
		'POST /api/v1/items/enwiki-1/claim': ( req ) => ( { token: req.body.take_over ? 9 : 5, expires_at: Date.now() + 300000, holder: me.name } ),
		'POST /api/v1/items/enwiki-1/release': {},
		'POST /api/v1/items/enwiki-1/resolve': {}
	} );
	page = await mountPage( '/queue/patrol/item/enwiki-1', me );
	await useQueuesStore().loadList( 'patrol' );
	useItemStore().openItem( 'enwiki-1' );
	await waitFor( () => page.el.querySelector( '[data-testid="item-view"] [data-testid="viewer-role"]' ), 'the item view' );
	await settle();
	return { api, view: page.el.querySelector( '[data-testid="item-view"]' ) };
}

/** A key as a Hebrew layout gives it: the physical key's `code`, the Hebrew letter as `key`. */
async function pressCode( code, key ) {
	onKeydown( new KeyboardEvent( 'keydown', { code, key, bubbles: true, cancelable: true } ) );
	await settle();
}

const path = () => page.router.currentRoute.value.path;

describe( 'keys by physical position', () => {
	test( 'the code decides, whatever letter the layout types', () => {
		expect( actionOf( { code: 'KeyJ', key: 'ח' } ) ).toBe( 'next' );
		expect( actionOf( { code: 'KeyJ', key: 'о' } ) ).toBe( 'next' );
		expect( actionOf( { code: 'KeyF', key: 'ب' } ) ).toBe( 'fine' );
		// On a Hebrew layout the Q key types "/": it is still the revert.
		expect( actionOf( { code: 'KeyQ', key: '/' } ) ).toBe( 'revert-vandalism' );
		expect( actionOf( { code: 'Slash', key: '.' } ) ).toBe( 'message' );
		expect( actionOf( { code: 'Slash', key: '?', shiftKey: true } ) ).toBe( 'help' );
		// Events without a code (synthetic ones) go by their key.
		expect( comboOf( { code: '', key: 'j' } ) ).toBe( 'KeyJ' );
		expect( actionOf( { code: '', key: '?' } ) ).toBe( 'help' );
	} );

	test( 'a changed key swaps with the action that had it, and is kept per person', () => {
		loadKeys( 'Alice' );
		expect( setKey( 'fine', 'KeyJ' ) ).toBe( 'next' );
		expect( keys.fine ).toBe( 'KeyJ' );
		expect( keys.next ).toBe( 'KeyF' );
		expect( keyLabel( keys.fine ) ).toBe( 'j' );
		expect( actionOf( { code: 'KeyJ', key: 'ח' } ) ).toBe( 'fine' );
		expect( JSON.parse( localStorage.getItem( 'patrolchat.keys.Alice' ) ) ).toEqual( { fine: 'KeyJ', next: 'KeyF' } );
		// Enter, Esc and arrows stay what they are.
		expect( setKey( 'skip', 'Enter' ) ).toBe( null );
		expect( keys.skip ).toBe( 'KeyS' );
		loadKeys( 'Bob' );
		expect( keys.fine ).toBe( DEFAULT_KEYS.fine );
		loadKeys( 'Alice' );
		expect( keys.fine ).toBe( 'KeyJ' );
		resetKeys();
		expect( localStorage.getItem( 'patrolchat.keys.Alice' ) ).toBe( null );
		expect( keys.next ).toBe( 'KeyJ' );
	} );
} );

describe( 'the shortcuts dialog', () => {
	test( 'changes a key: the button waits for the next key, which is kept for the person', async () => {
		await openFirst();
		page.session.shortcutsOpen = true;
		const row = await waitFor( () => document.querySelector( '[data-testid="shortcut"][data-action="fine"]' ), 'the shortcut of fine' );
		const button = row.querySelector( '[data-testid="shortcut-change"]' );
		expect( button.textContent.trim() ).toBe( 'f' );
		expect( button.getAttribute( 'aria-label' ) ).toBe( 'Change the key of “Resolve as fine, then the next item”' );
		button.click();
		await settle();
		expect( button.getAttribute( 'aria-pressed' ) ).toBe( 'true' );
		button.dispatchEvent( new KeyboardEvent( 'keydown', { code: 'KeyH', key: 'י', bubbles: true, cancelable: true } ) );
		await settle();
		expect( button.textContent.trim() ).toBe( 'h' );
		expect( JSON.parse( localStorage.getItem( 'patrolchat.keys.Alice' ) ) ).toEqual( { fine: 'KeyH' } );
		page.session.shortcutsOpen = false;
		await settle();
		// The new key decides; the old one no longer does.
		const api = fakeApi( { 'POST /api/v1/items/enwiki-1/claim': { token: 5, expires_at: Date.now() + 300000, holder: 'Alice' }, 'POST /api/v1/items/enwiki-1/resolve': {} } );
		await pressCode( 'KeyF', 'כ' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/resolve' ) ).toHaveLength( 0 );
		await pressCode( 'KeyH', 'י' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/resolve' ) ).toHaveLength( 1 );
	} );
} );

describe( 'one key per decision, then the next item', () => {
	test( 'f on a Hebrew layout (key כ) resolves as fine and opens the next item nobody else holds', async () => {
		const { api } = await openFirst();
		await pressCode( 'KeyF', 'כ' );
		const resolved = api.to( 'POST /api/v1/items/enwiki-1/resolve' );
		expect( resolved ).toHaveLength( 1 );
		expect( resolved[ 0 ].body ).toMatchObject( { outcome: 'ok', token: 5 } );
		// enwiki-2 is Carol's: the next item is enwiki-3.
		expect( path() ).toBe( '/queue/patrol/item/enwiki-3' );
		expect( useQueuesStore().visibleRows[ useQueuesStore().list.cursor ].id ).toBe( 'enwiki-3' );
	} );

	test( 's releases a held claim and skips to the next item without resolving', async () => {
		const { api } = await openFirst();
		await useItemStore().claim( 'enwiki-1' );
		await pressCode( 'KeyS', 'ד' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/release' ) ).toHaveLength( 1 );
		expect( api.to( 'POST /api/v1/items/enwiki-1/resolve' ) ).toHaveLength( 0 );
		expect( path() ).toBe( '/queue/patrol/item/enwiki-3' );
	} );

	test( 'the last item stays open after its decision, saying there is no next', async () => {
		const { api } = await openFirst( { list: [ view( 'enwiki-1', 'One' ) ] } );
		await pressCode( 'KeyF', 'כ' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/resolve' ) ).toHaveLength( 1 );
		expect( path() ).toBe( '/queue/patrol/item/enwiki-1' );
		expect( [ ...page.el.querySelectorAll( '[data-testid="notice"]' ) ].map( ( n ) => n.textContent ).join( ' ' ) ).toContain( 'No more items in this list.' );
	} );

	test( 'Enter on the outcome submits the resolve form; a refusal takes the focus out of the fields', async () => {
		const { view: v } = await openFirst();
		fakeApi( {
			'POST /api/v1/items/enwiki-1/claim': { token: 5, expires_at: Date.now() + 300000, holder: 'Alice' },
			'POST /api/v1/items/enwiki-1/resolve': { __reply: true, status: 409, body: { error: { code: 'stale_token', message: 'stale' } } }
		} );
		await pressCode( 'KeyR', 'ר' );
		const select = v.querySelector( '[data-testid="resolve-outcome"]' );
		expect( document.activeElement ).toBe( select );
		select.dispatchEvent( new KeyboardEvent( 'keydown', { key: 'Enter', bubbles: true, cancelable: true } ) );
		await settle();
		const sent = globalThis.fetch.mock.calls.filter( ( [ u, o ] ) => String( u ).endsWith( '/resolve' ) && o.method === 'POST' );
		expect( sent ).toHaveLength( 1 );
		expect( document.activeElement.closest( 'input, textarea, select' ) ).toBe( null );
		expect( document.activeElement.getAttribute( 'data-testid' ) ).toBe( 'resolve-confirm' );
		// j moves in the list again instead of typing.
		const before = useQueuesStore().list.cursor;
		onKeydown( new KeyboardEvent( 'keydown', { code: 'KeyJ', key: 'j', bubbles: true, cancelable: true } ) );
		expect( useQueuesStore().list.cursor ).toBe( before + 1 );
	} );
} );

describe( 'escalating', () => {
	test( 'e opens the form, Enter in the reason sends it and the next item opens', async () => {
		const { view: v } = await openFirst();
		useQueuesStore().workflows = [ { name: 'admin-block', title: 'Block requests', kind: 'escalation', open: 0, claimed: 0, wikis: [] } ];
		const api = fakeApi( {
			'POST /api/v1/items/enwiki-1/escalate': { item: { id: 'admin-block-enwiki-1' } }
		} );
		await pressCode( 'KeyE', 'ק' );
		const box = v.querySelector( '[data-testid="escalate-reason"] textarea' ) || v.querySelector( '[data-testid="escalate-reason"]' );
		box.value = 'Mass vandalism from this IP';
		box.dispatchEvent( new Event( 'input', { bubbles: true } ) );
		await settle();
		box.dispatchEvent( new KeyboardEvent( 'keydown', { key: 'Enter', bubbles: true, cancelable: true } ) );
		await settle();
		expect( api.to( 'POST /api/v1/items/enwiki-1/escalate' ).map( ( c ) => c.body ) ).toEqual( [ { workflow: 'admin-block', reason: 'Mass vandalism from this IP' } ] );
		expect( path() ).toBe( '/queue/patrol/item/enwiki-3' );
	} );
} );

describe( 'notices about items', () => {
	test( 'a claim that ran out names the item\'s title and links it', async () => {
		await openFirst();
		useItemStore().applyFrame( { type: 'item.released', item: 'enwiki-3', holder: 'Alice', reason: 'expired' } );
		await settle();
		const n = [ ...page.el.querySelectorAll( '[data-testid="notice"]' ) ].pop();
		expect( n.textContent ).toContain( 'Your claim on Three ran out.' );
		expect( n.querySelector( '[data-testid="notice-link"]' ).getAttribute( 'href' ) ).toBe( '/queue/patrol/item/enwiki-3' );
	} );
} );

describe( 'an admin resolving someone else\'s held item', () => {
	test( 'is asked first; confirming takes the claim over, then resolves with its token', async () => {
		const me = person( { name: 'Ada', role: 'admin' } );
		const { api, view: v } = await openFirst( { me, detail: { viewer_role: 'admin', claim: { holder: 'Carol', expires_at: Date.now() + 100000 } } } );
		await pressCode( 'KeyF', 'כ' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/resolve' ) ).toHaveLength( 0 );
		const ask = v.querySelector( '[data-testid="take-over-confirm"]' );
		expect( ask.textContent ).toContain( 'Carol holds this item. Take it over and resolve it?' );
		ask.querySelector( '[data-testid="take-over-yes"]' ).click();
		await settle();
		const claims = api.to( 'POST /api/v1/items/enwiki-1/claim' );
		expect( claims.map( ( c ) => c.body ) ).toEqual( [ { take_over: true } ] );
		const resolves = api.to( 'POST /api/v1/items/enwiki-1/resolve' );
		expect( resolves.map( ( c ) => c.body ) ).toEqual( [ { outcome: 'ok', token: 9 } ] );
		expect( path() ).toBe( '/queue/patrol/item/enwiki-3' );
	} );

	test( 'Esc leaves the confirmation without taking over', async () => {
		const me = person( { name: 'Ada', role: 'admin' } );
		const { api, view: v } = await openFirst( { me, detail: { viewer_role: 'admin', claim: { holder: 'Carol', expires_at: Date.now() + 100000 } } } );
		v.querySelector( '[data-testid="take-over"]' ).click();
		await settle();
		expect( v.querySelector( '[data-testid="take-over-confirm"]' ) ).toBeTruthy();
		onKeydown( new KeyboardEvent( 'keydown', { key: 'Escape', bubbles: true, cancelable: true } ) );
		await settle();
		expect( v.querySelector( '[data-testid="take-over-confirm"]' ) ).toBe( null );
		expect( api.to( 'POST /api/v1/items/enwiki-1/claim' ) ).toHaveLength( 0 );
	} );
} );

describe( 'mentions', () => {
	test( 'name the item by its title, link the message, stay until read and count in the title', async () => {
		await openFirst();
		const threads = useThreadsStore();
		await threads.mention( { id: 'm7', item: 'enwiki-3', author: 'Bob', text: '@Alice look' } );
		await threads.mention( { id: 'm8', item: 'enwiki-1', author: 'Bob', text: '@Alice here' } );
		await settle();
		const notices = () => [ ...page.el.querySelectorAll( '[data-testid="notice"][data-kind="mention"]' ) ];
		expect( notices().map( ( n ) => n.textContent.replace( /\s+/g, ' ' ).trim() ) ).toEqual( [
			'Bob mentioned you in Three. Go to the message',
			'Bob mentioned you in One. Go to the message'
		] );
		expect( document.title ).toBe( '(2) patrolchat' );
		const link = notices()[ 0 ].querySelector( '[data-testid="notice-link"]' );
		expect( link.getAttribute( 'href' ) ).toBe( '/queue/patrol/item/enwiki-3#message-m7' );
		// A notice that is not a mention does not push a mention out.
		for ( let i = 0; i < 5; i++ ) {
			page.session.notify( 'success', `done ${ i }` );
		}
		await settle();
		expect( notices() ).toHaveLength( 2 );
		link.click();
		await settle();
		expect( path() ).toBe( '/queue/patrol/item/enwiki-3' );
		expect( threads.highlight ).toBe( 'm7' );
		expect( notices() ).toHaveLength( 1 );
		expect( document.title ).toBe( '(1) patrolchat' );
	} );
} );
