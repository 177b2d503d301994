// The person's language is kept with them (`/api/v1/me` says it; a choice
// is stored with `PUT /api/v1/me/preferences`), and messages that name a
// person take that person's gender ({{GENDER}}) as their wiki says it
// (`GET /api/v1/users/genders`, asked once for the names wanted together).
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { fakeApi, person, settle } from './harness.js';
import { setLanguage, t, locale } from '../src/i18n.js';
import { genderOf, genderFor, forgetGenders } from '../src/genders.js';
import { useSessionStore } from '../src/stores/session.js';
import { titleOf } from '../src/notify.js';

beforeEach( () => {
	setActivePinia( createPinia() );
	forgetGenders();
	localStorage.clear();
} );

afterEach( async () => {
	vi.unstubAllGlobals();
	await setLanguage( 'en' );
	localStorage.clear();
} );

test( 'names wanted together are asked for in one request, and the answer is used', async () => {
	const api = fakeApi( { 'GET /api/v1/users/genders': { genders: { Dana: 'female', Eli: 'male' } } } );
	expect( genderOf( 'Dana' ) ).toBe( 'unknown' );
	expect( genderOf( 'Eli' ) ).toBe( 'unknown' );
	expect( await genderFor( 'Eli' ) ).toBe( 'male' );
	expect( genderOf( 'Dana' ) ).toBe( 'female' );
	const asks = api.calls.filter( ( c ) => c.path === '/api/v1/users/genders' );
	expect( asks.length ).toBe( 1 );
	expect( decodeURIComponent( asks[ 0 ].url.split( 'names=' )[ 1 ] ) ).toBe( 'Dana|Eli' );
	// Known now: not asked again.
	genderOf( 'Dana' );
	await settle();
	expect( api.calls.filter( ( c ) => c.path === '/api/v1/users/genders' ).length ).toBe( 1 );
} );

test( 'a message naming a person takes their gender; unknown takes the neutral form', async () => {
	fakeApi( { 'GET /api/v1/users/genders': { genders: { Dana: 'female', Eli: 'male', Sam: 'unknown' } } } );
	await setLanguage( 'he' );
	await Promise.all( [ genderFor( 'Dana' ), genderFor( 'Eli' ), genderFor( 'Sam' ) ] );
	const tt = ( ...a ) => t( ...a );
	expect( titleOf( { kind: 'mention', by: 'Dana' }, tt ) ).toBe( 'Dana הזכירה אותך' );
	expect( titleOf( { kind: 'mention', by: 'Eli' }, tt ) ).toBe( 'Eli הזכיר אותך' );
	expect( titleOf( { kind: 'mention', by: 'Sam' }, tt ) ).toBe( 'Sam הזכיר/ה אותך' );
	// Russian's past tense agrees too.
	await setLanguage( 'ru' );
	expect( t( 'patrolchat-notify-reply', 'Dana', 'female' ) ).not.toBe( t( 'patrolchat-notify-reply', 'Dana', 'male' ) );
} );

test( 'a failed lookup reads neutral and is asked again later', async () => {
	fakeApi( {} );
	expect( await genderFor( 'Nia' ) ).toBe( 'unknown' );
	const api = fakeApi( { 'GET /api/v1/users/genders': { genders: { Nia: 'female' } } } );
	expect( await genderFor( 'Nia' ) ).toBe( 'female' );
	expect( api.calls.length ).toBe( 1 );
} );

test( 'the language kept with the person wins once they are signed in', async () => {
	fakeApi( { 'GET /api/v1/me': person( { language: 'fr', gender: 'female' } ) } );
	const session = useSessionStore();
	expect( locale.value ).toBe( 'en' );
	await session.checkAuth();
	await vi.waitFor( () => expect( locale.value ).toBe( 'fr' ) );
	expect( document.documentElement.lang ).toBe( 'fr' );
	// Remembered on this device too, for the next visit before sign-in.
	expect( localStorage.getItem( 'patrolchat.lang' ) ).toBe( 'fr' );
	// The person's own gender came with /me.
	expect( genderOf( 'Alice' ) ).toBe( 'female' );
} );

test( 'a language chosen before signing in is kept with the person', async () => {
	await setLanguage( 'uk', true );
	const api = fakeApi( {
		'GET /api/v1/me': person( { language: null } ),
		'PUT /api/v1/me/preferences': ( req ) => ( { language: req.body.language } )
	} );
	await useSessionStore().checkAuth();
	await settle();
	const put = api.calls.find( ( c ) => c.method === 'PUT' );
	expect( put && put.path ).toBe( '/api/v1/me/preferences' );
	expect( put.body ).toEqual( { language: 'uk' } );
	expect( locale.value ).toBe( 'uk' );
} );

test( 'choosing a language stores it with the person; a failure says so and keeps it here', async () => {
	const api = fakeApi( {
		'GET /api/v1/me': person( { language: 'en' } ),
		'PUT /api/v1/me/preferences': ( req ) => ( { language: req.body.language } )
	} );
	const session = useSessionStore();
	await session.checkAuth();
	await session.saveLanguage( 'ja' );
	expect( api.calls.filter( ( c ) => c.method === 'PUT' ).map( ( c ) => c.body ) ).toEqual( [ { language: 'ja' } ] );
	expect( session.me.language ).toBe( 'ja' );
	fakeApi( {} );
	await session.saveLanguage( 'de' );
	expect( session.notice && session.notice.type ).toBe( 'warning' );
} );
