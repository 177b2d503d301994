// A language whose messages cannot be fetched: the page stays in the
// language it was in, and setLanguage says so by rejecting (the header
// then shows an error notice and puts its selector back).
import { expect, test, vi } from 'vitest';
import { setLanguage, t, locale } from '../src/i18n.js';

vi.mock( '../i18n/he.json', () => {
	throw new Error( 'the network is down' );
} );

test( 'a language that cannot be fetched leaves the page as it was', async () => {
	await expect( setLanguage( 'he', true ) ).rejects.toThrow();
	expect( locale.value ).toBe( 'en' );
	expect( t( 'patrolchat-language' ) ).toBe( 'Language' );
	expect( document.documentElement.dir ).not.toBe( 'rtl' );
	expect( localStorage.getItem( 'patrolchat.lang' ) ).toBeNull();
} );
