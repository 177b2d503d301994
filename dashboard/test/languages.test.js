// Languages other than English are fetched when first chosen (i18n.js):
// the page switches once the messages are there, with <html lang dir>.
import { expect, test, vi } from 'vitest';
import { setLanguage, t, locale } from '../src/i18n.js';
import he from '../i18n/he.json';
import { fakeApi, mountPage, person, settle } from './harness.js';

test( 'choosing Hebrew loads its messages, then switches language and direction', async () => {
	expect( locale.value ).toBe( 'en' );
	expect( t( 'patrolchat-language' ) ).toBe( 'Language' );
	const switching = setLanguage( 'he' );
	// Not switched before the messages are there.
	expect( locale.value ).toBe( 'en' );
	await switching;
	expect( locale.value ).toBe( 'he' );
	expect( t( 'patrolchat-language' ) ).toBe( he[ 'patrolchat-language' ] );
	expect( document.documentElement.dir ).toBe( 'rtl' );
	expect( document.documentElement.lang ).toBe( 'he' );
	await setLanguage( 'en' );
	expect( t( 'patrolchat-language' ) ).toBe( 'Language' );
	expect( document.documentElement.dir ).toBe( 'ltr' );
} );

test( 'a notice keeps the language it was written in when the interface changes', async () => {
	fakeApi( {} );
	await setLanguage( 'de' );
	const page = await mountPage( '/queue/patrol', person() );
	try {
		page.session.notify( 'warning', 'Deine Sprachwahl konnte nicht gespeichert werden.' );
		await setLanguage( 'he' );
		await settle();
		const text = page.el.querySelector( '[data-testid="notice"] [lang]' );
		expect( text.textContent ).toBe( 'Deine Sprachwahl konnte nicht gespeichert werden.' );
		expect( [ text.getAttribute( 'lang' ), text.getAttribute( 'dir' ) ] ).toEqual( [ 'de', 'ltr' ] );
		expect( document.documentElement.dir ).toBe( 'rtl' );
	} finally {
		page.unmount();
		await setLanguage( 'en' );
		vi.unstubAllGlobals();
	}
} );
