// The item view explains its priority chip: the workflow's base and the
// signals the router says fired, each with its weight, as text.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeApi, person, itemDetail, mountPage, settle, waitFor } from './harness.js';
import { useItemStore } from '../src/stores/item.js';

let page = null;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

async function open( item ) {
	fakeApi( {
		'GET /api/v1/items/enwiki-1': itemDetail( {}, item ),
		'GET /api/v1/me/wikis/enwiki': { wiki: 'enwiki', role: 'patroller' }
	} );
	page = await mountPage( '/queue/patrol/item/enwiki-1', person() );
	useItemStore().openItem( 'enwiki-1' );
	const why = await waitFor( () => page.el.querySelector( '[data-testid="priority-signals"]' ), 'the priority explained' );
	await settle();
	return why;
}

test( 'the signals that fired, with the base they were added to', async () => {
	const why = await open( { priority: 35, signals: [ { name: 'ip', weight: 20 }, { name: 'no_comment', weight: 5 } ] } );
	expect( why.textContent.trim() ).toBe( 'Why: base 10 · IP editor +20 · no edit summary +5' );
	const chip = [ ...page.el.querySelectorAll( '.cdx-info-chip' ) ].find( ( c ) => c.textContent.includes( 'priority 35' ) );
	expect( chip.getAttribute( 'aria-describedby' ) ).toBe( why.id );
} );

test( 'an item without signals says so; a signal this page does not know shows as text', async () => {
	let why = await open( { priority: 10 } );
	expect( why.textContent.trim() ).toBe( 'No signal raised its priority.' );
	page.unmount();
	page = null;
	why = await open( { priority: 12.6, signals: [ { name: '<img src=x onerror=alert(1)>', weight: 2.6 } ] } );
	expect( why.textContent.trim() ).toBe( 'Why: base 10 · <img src=x onerror=alert(1)> +3' );
	expect( why.querySelector( 'img' ) ).toBe( null );
} );
