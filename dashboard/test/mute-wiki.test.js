// A mute holds on one wiki: the admin tools offer the wikis the person is
// an admin of, and every wiki, and send the one chosen.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeApi, mountPage, person, settle } from './harness.js';

let page;

afterEach( () => {
	if ( page ) {
		page.unmount();
		page = null;
	}
	vi.unstubAllGlobals();
} );

/** The form control under `testid` (Codex puts the attribute on the control itself). */
function control( root, testid ) {
	const el = root.querySelector( `[data-testid="${ testid }"]` );
	return el && /^(INPUT|TEXTAREA|SELECT)$/.test( el.tagName ) ? el : el && el.querySelector( 'input, textarea' );
}

function setValue( el, value ) {
	el.value = value;
	el.dispatchEvent( new Event( 'input' ) );
	el.dispatchEvent( new Event( 'change' ) );
}

describe( 'the mute form', () => {
	test( 'mutes on a wiki the person is an admin of, or on every wiki', async () => {
		const api = fakeApi( {
			'GET /api/v1/wikis': { wikis: {} },
			'GET /api/v1/workflows/reports/items': { items: [] },
			'POST /api/v1/users/Troll/mute': { user: 'Troll', muted: true }
		} );
		const me = person( {
			name: 'Ena', role: 'admin',
			wikis: {
				enwiki: { role: 'admin', groups: [ 'sysop' ], blocked: false, checked_at: 1 },
				dewiki: { role: 'reader', groups: [], blocked: false, checked_at: 1 }
			}
		} );
		// jsdom has no scrolling; Codex's tabs scroll the chosen tab into view.
		if ( !Element.prototype.scrollBy ) {
			Element.prototype.scrollBy = () => {};
		}
		page = await mountPage( '/admin', me );
		await settle();
		const tab = [ ...page.el.querySelectorAll( '[role="tab"]' ) ].find( ( t ) => /mute/i.test( t.textContent ) );
		tab.click();
		await settle();
		const select = page.el.querySelector( '[data-testid="mute-wiki"]' );
		expect( [ ...select.options ].map( ( o ) => o.value ) ).toEqual( [ 'enwiki', '*' ] );
		expect( select.value ).toBe( 'enwiki' );
		setValue( control( page.el, 'mute-user' ), 'Troll' );
		setValue( control( page.el, 'mute-reason' ), 'insults' );
		await settle();
		page.el.querySelector( '[data-testid="mute-submit"]' ).click();
		await settle();
		const sent = api.to( 'POST /api/v1/users/Troll/mute' );
		expect( sent ).toHaveLength( 1 );
		expect( sent[ 0 ].body.wiki ).toBe( 'enwiki' );
		setValue( select, '*' );
		await settle();
		// A mute that went through clears its reason: a new one is needed.
		setValue( control( page.el, 'mute-reason' ), 'again' );
		await settle();
		page.el.querySelector( '[data-testid="mute-submit"]' ).click();
		await settle();
		expect( api.to( 'POST /api/v1/users/Troll/mute' ).at( -1 ).body.wiki ).toBe( '*' );
	} );
} );
