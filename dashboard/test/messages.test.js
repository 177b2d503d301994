// Messages: every English key has a description and a Hebrew translation,
// and every message the code names exists.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { here, sources } from './sources.js';

const dir = join( here, '../i18n' );
const load = ( name ) => JSON.parse( readFileSync( join( dir, `${ name }.json` ), 'utf8' ) );
const en = load( 'en' );
const qqq = load( 'qqq' );
const languages = readdirSync( dir ).filter( ( f ) => f.endsWith( '.json' ) ).map( ( f ) => f.slice( 0, -5 ) );
const keys = ( m ) => Object.keys( m ).filter( ( k ) => !k.startsWith( '@' ) );

describe( 'messages', () => {
	test( 'every message file is banana JSON with @metadata', () => {
		for ( const lang of languages ) {
			const m = load( lang );
			expect( m[ '@metadata' ] && typeof m[ '@metadata' ] === 'object', `${ lang }.json has no @metadata` ).toBeTruthy();
			for ( const k of keys( m ) ) {
				expect( typeof m[ k ] === 'string' && m[ k ].trim() !== '', `${ lang }.json: ${ k } is empty or not a string` ).toBe( true );
			}
		}
	} );

	test( 'every English message has a qqq description', () => {
		expect( keys( en ).filter( ( k ) => !( k in qqq ) ), 'keys without qqq' ).toEqual( [] );
		expect( keys( qqq ).filter( ( k ) => !( k in en ) ), 'qqq keys that are not in en' ).toEqual( [] );
	} );

	test( 'Hebrew is complete, with the same parameters', () => {
		const he = load( 'he' );
		expect( keys( en ).filter( ( k ) => !( k in he ) ), 'keys missing from he' ).toEqual( [] );
		expect( keys( he ).filter( ( k ) => !( k in en ) ), 'he keys that are not in en' ).toEqual( [] );
		const params = ( s ) => [ ...new Set( s.match( /\$\d+/g ) || [] ) ].sort();
		for ( const k of keys( en ) ) {
			expect( params( he[ k ] ), `parameters of ${ k }` ).toEqual( params( en[ k ] ) );
		}
	} );

	test( 'every other translation has only known keys', () => {
		for ( const lang of languages.filter( ( l ) => l !== 'en' && l !== 'qqq' ) ) {
			const m = load( lang );
			expect( keys( m ).filter( ( k ) => !( k in en ) ), `${ lang } keys not in en` ).toEqual( [] );
		}
	} );

	test( 'every message the code names exists in English', () => {
		const code = sources().join( '\n' );
		const used = [ ...new Set( code.match( /'patrolchat-[a-z0-9-]+'/g ).map( ( s ) => s.slice( 1, -1 ) ) ) ];
		expect( used.filter( ( k ) => !( k in en ) ), 'messages used but not defined' ).toEqual( [] );
		for ( const prefix of [ 'outcome', 'performer', 'kind', 'role' ] ) {
			expect( keys( en ).some( ( k ) => k.startsWith( `patrolchat-${ prefix }-` ) ), prefix ).toBe( true );
		}
	} );
} );
