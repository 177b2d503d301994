// Views loaded on first use (lazy.js): a chunk that fails to arrive is
// fetched again, and after three failures the view says so instead of
// staying blank.
import { afterEach, expect, test, vi } from 'vitest';
import { createApp, h, nextTick } from 'vue';
import { lazy } from '../src/lazy.js';

const Loaded = { render: () => h( 'p', { 'data-testid': 'loaded' }, 'the view' ) };

function mount( component ) {
	const el = document.createElement( 'div' );
	document.body.append( el );
	const app = createApp( { render: () => h( component ) } );
	app.mount( el );
	return { el, unmount: () => app.unmount() };
}

/** Lets pending promises and the given fake time pass. */
async function pass( ms ) {
	for ( let i = 0; i < 10; i++ ) {
		await vi.advanceTimersByTimeAsync( ms / 10 );
		await nextTick();
	}
}

/** A loader that fails `failures` times, then gives the view; counts its calls. */
function flaky( failures ) {
	const loader = () => {
		loader.calls += 1;
		return loader.calls <= failures ? Promise.reject( new Error( 'offline' ) ) : Promise.resolve( Loaded );
	};
	loader.calls = 0;
	return loader;
}

afterEach( () => {
	vi.useRealTimers();
} );

test( 'a chunk that fails twice is fetched again and the view shows', async () => {
	vi.useFakeTimers();
	const loader = flaky( 2 );
	const m = mount( lazy( loader ) );
	await pass( 3000 );
	expect( loader.calls ).toBe( 3 );
	expect( m.el.querySelector( '[data-testid="loaded"]' ) ).not.toBeNull();
	expect( m.el.querySelector( '[data-testid="view-failed"]' ) ).toBeNull();
	m.unmount();
} );

test( 'a chunk that never arrives ends in an error message, not a blank view', async () => {
	vi.useFakeTimers();
	const loader = flaky( Infinity );
	const m = mount( lazy( loader ) );
	await pass( 5000 );
	expect( loader.calls ).toBe( 3 );
	const failed = m.el.querySelector( '[data-testid="view-failed"]' );
	expect( failed ).not.toBeNull();
	expect( failed.textContent ).toContain( 'could not be loaded' );
	m.unmount();
} );
