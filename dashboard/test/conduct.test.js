// A community's code of conduct: a post refused with `conduct_required`
// opens a dialog naming the wiki and linking its code (https only);
// Accept records the acceptance and sends the same text again, Cancel
// leaves the text in the message box. Before that, the composer of a
// thread on a wiki whose code was not accepted says so in one line.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeApi, reply, person, itemDetail, mountPage, settle, waitFor, typeInto } from './harness.js';
import { useItemStore } from '../src/stores/item.js';
import { onKeydown } from '../src/keyboard.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

const REFUSAL = ( url ) => reply( 403, {
	error: { code: 'conduct_required', message: 'accept the code of conduct of enwiki first', wiki: 'enwiki', conduct_url: url }
} );

/**
 * Opens enwiki-1 with a post that is refused until the code is accepted;
 * gives the fake api and the thread's form.
 */
async function openThread( { url = 'https://en.wikipedia.org/wiki/WP:CoC', me = person(), wikis = {} } = {} ) {
	let accepted = false;
	const api = fakeApi( {
		'GET /api/v1/items/enwiki-1': itemDetail(),
		'GET /api/v1/wikis': { default: { language: 'en', direction: 'ltr' }, wikis },
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: 'patroller', groups: [], blocked: false },
		'POST /api/v1/wikis/enwiki/conduct': () => {
			accepted = true;
			return reply( 204 );
		},
		'POST /api/v1/items/enwiki-1/messages': ( req ) => ( accepted ?
			{ id: 'm9', seq: 9, author: 'Alice', text: req.body.text, at: Date.now(), item: 'enwiki-1' } :
			REFUSAL( url ) )
	} );
	page = await mountPage( '/queue/patrol/item/enwiki-1', me );
	useItemStore().openItem( 'enwiki-1' );
	const form = await waitFor( () => page.el.querySelector( '[data-testid="item-view"] .pc-thread__form' ), 'the message box' );
	await settle();
	return { api, form };
}

async function send( form, text ) {
	const box = await typeInto( form, text );
	form.dispatchEvent( new Event( 'submit', { bubbles: true, cancelable: true } ) );
	await settle();
	return box;
}

/** Waits for the dialog to be gone (after its closing transition). */
async function closed() {
	await vi.waitFor( () => expect( dialog() ).toBeNull(), { timeout: 2000, interval: 10 } );
}

const dialog = () => document.body.querySelector( '[data-testid="conduct-dialog"]' );
const button = ( label ) => [ ...document.body.querySelectorAll( '.cdx-dialog button' ) ].find( ( b ) => b.textContent.trim() === label );

describe( 'the code-of-conduct prompt', () => {
	test( 'a refused post asks; Accept records it and sends the same text again', async () => {
		const { api, form } = await openThread();
		const box = await send( form, 'Reverted, see the talk page' );
		const d = await waitFor( dialog, 'the dialog' );
		expect( d.dataset.wiki ).toBe( 'enwiki' );
		// A modal dialog, with the focus inside it.
		const box0 = document.body.querySelector( '.cdx-dialog' );
		expect( box0.getAttribute( 'role' ) ).toBe( 'dialog' );
		expect( box0.getAttribute( 'aria-modal' ) ).toBe( 'true' );
		await vi.waitFor( () => expect( box0.contains( document.activeElement ) ).toBe( true ) );
		expect( document.body.querySelector( '.cdx-dialog' ).textContent ).toContain( 'Code of conduct of enwiki' );
		const link = d.querySelector( '[data-testid="conduct-link"]' );
		expect( link.getAttribute( 'href' ) ).toBe( 'https://en.wikipedia.org/wiki/WP:CoC' );
		expect( link.getAttribute( 'rel' ) ).toBe( 'noopener noreferrer nofollow' );
		expect( link.hasAttribute( 'target' ) ).toBe( false );
		// The text waits in the box while the dialog is open.
		expect( box.value ).toBe( 'Reverted, see the talk page' );
		expect( api.to( 'POST /api/v1/items/enwiki-1/messages' ) ).toHaveLength( 1 );

		button( 'Accept and send' ).click();
		await settle();
		const acceptance = api.to( 'POST /api/v1/wikis/enwiki/conduct' );
		expect( acceptance ).toHaveLength( 1 );
		expect( acceptance[ 0 ].headers[ 'X-CSRF-Token' ] ).toBe( 'csrf-1' );
		const posts = api.to( 'POST /api/v1/items/enwiki-1/messages' );
		expect( posts ).toHaveLength( 2 );
		expect( posts[ 1 ].body ).toEqual( { text: 'Reverted, see the talk page' } );
		await closed();
		expect( box.value ).toBe( '' );
		expect( page.el.querySelector( '[data-message-id="m9"]' ).textContent ).toContain( 'Reverted, see the talk page' );
		expect( page.session.me.conduct ).toHaveProperty( 'enwiki' );
	} );

	test( 'Cancel keeps the text in the message box and accepts nothing', async () => {
		const { api, form } = await openThread();
		const box = await send( form, 'my careful words' );
		await waitFor( dialog, 'the dialog' );
		button( 'Cancel' ).click();
		await settle();
		await closed();
		expect( api.to( 'POST /api/v1/wikis/enwiki/conduct' ) ).toEqual( [] );
		expect( api.to( 'POST /api/v1/items/enwiki-1/messages' ) ).toHaveLength( 1 );
		expect( box.value ).toBe( 'my careful words' );
	} );

	test( 'Esc closes the dialog like Cancel, and stays in the item', async () => {
		const { api, form } = await openThread();
		const box = await send( form, 'still here' );
		const d = await waitFor( dialog, 'the dialog' );
		const path = page.router.currentRoute.value.path;
		// The page's shortcuts leave Esc to the dialog (no going back a view).
		onKeydown( new KeyboardEvent( 'keydown', { key: 'Escape', bubbles: true, cancelable: true } ) );
		d.dispatchEvent( new KeyboardEvent( 'keyup', { key: 'Escape', bubbles: true, cancelable: true } ) );
		await settle();
		expect( page.router.currentRoute.value.path ).toBe( path );
		await closed();
		expect( api.to( 'POST /api/v1/wikis/enwiki/conduct' ) ).toEqual( [] );
		expect( box.value ).toBe( 'still here' );
	} );

	test( 'a conduct URL that is not https is not linked', async () => {
		for ( const url of [ 'http://en.wikipedia.org/wiki/WP:CoC', 'javascript:alert(1)', 'data:text/html,x', 'https://user:pw@evil.example/', '' ] ) {
			const { form } = await openThread( { url } );
			await send( form, 'x' );
			const d = await waitFor( dialog, 'the dialog' );
			expect( d.querySelector( 'a' ), url ).toBeNull();
			expect( d.querySelector( '[data-testid="conduct-no-link"]' ), url ).not.toBeNull();
			button( 'Cancel' ).click();
			await settle();
			page.unmount();
			page = null;
		}
	} );
} );

describe( 'the note above the composer', () => {
	test( 'says the code applies, with its link, until it is accepted', async () => {
		await openThread( { wikis: { enwiki: { language: 'en', direction: 'ltr', conduct_url: 'https://en.wikipedia.org/wiki/WP:CoC' } } } );
		const note = await waitFor( () => page.el.querySelector( '[data-testid="conduct-note"]' ), 'the note' );
		expect( note.textContent ).toContain( 'code of conduct of the enwiki community' );
		expect( note.querySelector( 'a' ).getAttribute( 'href' ) ).toBe( 'https://en.wikipedia.org/wiki/WP:CoC' );
		page.session.me.conduct = { enwiki: Date.now() };
		await settle();
		expect( page.el.querySelector( '[data-testid="conduct-note"]' ) ).toBeNull();
	} );

	test( 'is not there when the code was accepted, and links no http URL', async () => {
		await openThread( { me: person( { conduct: { enwiki: 1 } } ) } );
		expect( page.el.querySelector( '[data-testid="conduct-note"]' ) ).toBeNull();
		page.unmount();
		await openThread( { wikis: { enwiki: { conduct_url: 'http://en.wikipedia.org/wiki/WP:CoC' } } } );
		const note = await waitFor( () => page.el.querySelector( '[data-testid="conduct-note"]' ), 'the note' );
		expect( note.querySelector( 'a' ) ).toBeNull();
	} );
} );
