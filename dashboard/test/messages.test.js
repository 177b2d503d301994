// Messages: every language has every key, well-formed (scripts/
// check-messages.mjs), every message the code names exists, and no text
// is English in a template or glued together from pieces.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse as parseSfc } from '@vue/compiler-sfc';
import { here, sources } from './sources.js';
import { GROUPS, LANGUAGES as CHECKED, checkGroup, readGroup, minPluralForms } from '../scripts/check-messages.mjs';
import { LANGUAGES } from '../src/i18n.js';

const dir = join( here, '../i18n' );
const load = ( name ) => JSON.parse( readFileSync( join( dir, `${ name }.json` ), 'utf8' ) );
const en = load( 'en' );
const qqq = load( 'qqq' );
const languages = readdirSync( dir ).filter( ( f ) => f.endsWith( '.json' ) ).map( ( f ) => f.slice( 0, -5 ) );
const keys = ( m ) => Object.keys( m ).filter( ( k ) => !k.startsWith( '@' ) );

describe( 'messages', () => {
	// The same check `node scripts/check-messages.mjs` runs, over both
	// message groups (the dashboard's and the wikitext export's).
	for ( const group of GROUPS ) {
		test( `${ group.replace( /^.*\/(dashboard|crates\/export)\//, '$1/' ) }: every language complete and well-formed`, () => {
			expect( checkGroup( readGroup( group ), { name: group } ) ).toEqual( [] );
		} );
	}

	test( 'the check catches what it is for', () => {
		const meta = { '@metadata': { authors: [ 'x' ] } };
		const en1 = { ...meta, a: 'Hello $1', b: '{{PLURAL:$1|one item|$1 items}}', c: '$1 {{GENDER:$2|left}}' };
		const qqq1 = { ...meta, a: 'Greeting. $1: name.', b: 'Count. $1: a number.', c: 'Notice. $1: name; $2: gender of $1.' };
		const good = { ...meta, a: 'Привет, $1', b: '{{PLURAL:$1|$1 элемент|$1 элемента|$1 элементов}}', c: '$1 {{GENDER:$2|ушёл|ушла|ушёл(а)}}' };
		const run = ( ru, over = {} ) => checkGroup( { en: en1, qqq: qqq1, ru, ...over }, { languages: [ 'en', 'ru' ] } );
		expect( run( good ) ).toEqual( [] );
		const has = ( problems, what ) => expect( problems.join( '\n' ) ).toContain( what );
		has( run( { ...good, b: '{{PLURAL:$1|$1 элемент|$1 элемента}}' } ), 'ru: b: PLURAL has 2 forms; ru needs 3' );
		has( run( { ...good, b: '{{PLURAL:$1|a|b|c|d|e}}' } ), 'ru: b: PLURAL has 5 forms; ru has 4' );
		has( run( { ...good, b: '{{PLURAL:$1|$1 элемент|$1 элемента|$1 элементов}' } ), 'ru: b: a "{{" is not closed' );
		has( run( { ...good, b: '{{PLURL:$1|$1 элемент|$1 элемента|$1 элементов}}' } ), 'is not {{PLURAL:$n|…}} or {{GENDER:$n|…}}' );
		has( run( { ...good, c: '$1 {{GENDER:$2|a|b|c|d}}' } ), 'ru: c: GENDER has 4 forms' );
		has( run( { ...good, a: 'Привет' } ), 'ru: a: leaves out $1' );
		has( run( { ...good, a: 'Привет, $1 $3' } ), 'ru: a: has $3, which English does not' );
		has( run( { ...meta, a: good.a, b: good.b } ), 'ru: c is missing' );
		has( run( { ...good, d: 'лишнее' } ), 'ru: d is not an English key' );
		has( run( good, { qqq: { ...meta, a: qqq1.a, b: qqq1.b } } ), 'qqq: c is not documented' );
		has( run( good, { qqq: { ...qqq1, a: 'Greeting.' } } ), 'qqq: a does not say what $1 is' );
		has( run( { ...good, '@metadata': undefined } ), 'ru.json has no @metadata' );
		has( checkGroup( { en: en1, qqq: qqq1 }, { languages: [ 'en', 'ru' ] } ), 'ru.json is missing' );
		has( run( good, { nl: good } ), 'nl.json is no interface language' );
		// A language that needs no gender may leave the gender parameter out.
		expect( run( { ...good, c: '$1 вышел(а)' } ).filter( ( p ) => p.includes( '$2' ) ) ).toEqual( [] );
	} );

	test( 'Japanese and Chinese PLURAL takes one form; Arabic all six', () => {
		expect( minPluralForms( 'ja' ) ).toBe( 1 );
		expect( minPluralForms( 'zh-hans' ) ).toBe( 1 );
		expect( minPluralForms( 'ar' ) ).toBe( 6 );
		expect( minPluralForms( 'fr' ) ).toBe( 2 );
		expect( minPluralForms( 'he' ) ).toBe( 2 );
	} );

	test( 'every interface language is listed, with its direction', () => {
		expect( Object.keys( LANGUAGES ).sort() ).toEqual( [ ...CHECKED ].sort() );
		for ( const [ code, [ , dir ] ] of Object.entries( LANGUAGES ) ) {
			expect( dir, code ).toBe( [ 'ar', 'fa', 'he' ].includes( code ) ? 'rtl' : 'ltr' );
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

	test( 'no component template holds text of its own: every word comes from a message', () => {
		// Group names are MediaWiki's identifiers, typed as they are.
		const allowed = new Set( [ 'SignIn.vue placeholder rollbacker, sysop' ] );
		const found = [];
		const components = join( here, '../src/components' );
		for ( const f of readdirSync( components ).filter( ( x ) => x.endsWith( '.vue' ) ) ) {
			const { descriptor } = parseSfc( readFileSync( join( components, f ), 'utf8' ) );
			const walk = ( n ) => {
				if ( n.type === 2 && /\p{L}{2,}/u.test( n.content ) ) {
					found.push( `${ f } text ${ n.content.trim() }` );
				}
				for ( const p of n.props || [] ) {
					if ( p.type === 6 && [ 'placeholder', 'title', 'aria-label', 'alt', 'label' ].includes( p.name ) && p.value && /\p{L}/u.test( p.value.content ) ) {
						found.push( `${ f } ${ p.name } ${ p.value.content }` );
					}
				}
				( n.children || [] ).forEach( walk );
			};
			if ( descriptor.template ) {
				walk( descriptor.template.ast );
			}
		}
		expect( found.filter( ( x ) => !allowed.has( x ) ) ).toEqual( [] );
		// The scan sees text: a template with a word in it is caught.
		const { descriptor } = parseSfc( '<template><p>Claim it</p></template>' );
		expect( descriptor.template.ast.children[ 0 ].children[ 0 ].content ).toBe( 'Claim it' );
	} );

	test( 'no text is glued together from messages', () => {
		const glued = /\bt\([^;]*\)\s*\+\s*['`"t]|['`"]\s*\+\s*t\(|\+\s*t\(|\$\{\s*t\(/;
		const hits = sources().flatMap( ( code ) => code.split( '\n' ) ).filter( ( line ) => glued.test( line ) );
		expect( hits ).toEqual( [] );
		expect( glued.test( "const s = t( 'patrolchat-a' ) + ' ' + t( 'patrolchat-b' );" ) ).toBe( true );
	} );

	test( 'every error code the api answers with has a sentence of its own', () => {
		// The codes, as the api's sources name them: `=> "code"` in the
		// error enums' `code()`, and `code: "code"` where a route makes one.
		const api = join( here, '../../api/src' );
		const rust = [];
		const walk = ( d ) => {
			for ( const f of readdirSync( d, { withFileTypes: true } ) ) {
				if ( f.isDirectory() ) {
					walk( join( d, f.name ) );
				} else if ( f.name.endsWith( '.rs' ) ) {
					rust.push( readFileSync( join( d, f.name ), 'utf8' ) );
				}
			}
		};
		walk( api );
		const codes = new Set();
		for ( const text of rust ) {
			for ( const fn of text.matchAll( /fn code\(&self\)[^{]*\{([\s\S]*?)\n {4}\}/g ) ) {
				for ( const m of fn[ 1 ].matchAll( /=> "([a-z_]+)"/g ) ) {
					codes.add( m[ 1 ] );
				}
			}
			for ( const m of text.matchAll( /\bcode: "([a-z_]+)",/g ) ) {
				codes.add( m[ 1 ] );
			}
		}
		expect( codes.size ).toBeGreaterThan( 30 );
		// Codes with messages of their own, chosen in errors.js.
		const special = [ 'claimed', 'network', 'rate_limited', 'unauthenticated', 'csrf', 'wiki_refused', 'wiki_unavailable',
			'conduct_required', 'muted', 'blocked', 'unavailable', 'bad_query' ];
		const lacking = [ ...codes ].filter( ( c ) => !special.includes( c ) && !( `patrolchat-error-code-${ c.replace( /_/g, '-' ) }` in en ) );
		expect( lacking ).toEqual( [] );
		// And every reason a search cannot be read (crates/search).
		const search = join( here, '../../crates/search/src' );
		const reasons = new Set();
		for ( const f of readdirSync( search ).filter( ( x ) => x.endsWith( '.rs' ) ) ) {
			const text = readFileSync( join( search, f ), 'utf8' );
			for ( const m of text.matchAll( /\bbad\(\s*"([a-z_]+)"|\breason: "([a-z_]+)"/g ) ) {
				reasons.add( m[ 1 ] || m[ 2 ] );
			}
		}
		expect( reasons.size ).toBeGreaterThanOrEqual( 10 );
		expect( [ ...reasons ].filter( ( r ) => !( `patrolchat-search-bad-${ r.replace( /_/g, '-' ) }` in en ) ) ).toEqual( [] );
		// And every reason an action on the wiki is not offered.
		const offer = readFileSync( join( here, '../../api/src/acting/offer.rs' ), 'utf8' );
		const whyNot = new Set( [ ...offer.matchAll( /\bno\(\s*"([a-z_]+)"|why_not_code: Some\("([a-z_]+)"\)|Some\(\(\s*"([a-z_]+)",|\|_\| \("([a-z_]+)",/g ) ]
			.map( ( m ) => m[ 1 ] || m[ 2 ] || m[ 3 ] || m[ 4 ] ) );
		expect( whyNot.size ).toBeGreaterThanOrEqual( 19 );
		expect( [ ...whyNot ].filter( ( r ) => !( `patrolchat-why-not-${ r.replace( /_/g, '-' ) }` in en ) ) ).toEqual( [] );
	} );
} );
