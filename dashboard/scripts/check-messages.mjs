// The message check: every translation of a message group (a directory of
// banana JSON files in translatewiki.net's layout: en.json, qqq.json and one
// file per language) against its English.
//
//   node scripts/check-messages.mjs [dir…]
//
// prints each problem and exits 1 when there is any. Without arguments it
// checks the dashboard's messages and the wikitext export's. What it holds:
// - every file parses, has @metadata, and every message is a non-empty string;
// - qqq documents every English key and nothing else, and names each of the
//   English message's parameters;
// - every language in `languages` has every key, every file is one of
//   them, and no file has a key English lacks;
// - a translation's parameters are English's (a parameter English uses only
//   to choose a GENDER form may be left out where the language does not
//   need it);
// - `{{…}}` is balanced, and only PLURAL and GENDER are used, each on a
//   parameter English has;
// - a PLURAL has no more forms than the language has plural categories, and
//   at least those it needs (the categories less the ones whose numbers
//   never occur here or read right in the last form: millions' `many` in
//   French, Spanish and Portuguese, Hebrew's `two`, and Russian and
//   Ukrainian's fractional `other`); forms like `0=none` are extra;
// - a GENDER has one to three forms (male, female, unknown).

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname( fileURLToPath( import.meta.url ) );

/** The interface languages: every one of them must be complete. */
export const LANGUAGES = [ 'ar', 'de', 'en', 'es', 'fa', 'fr', 'he', 'ja', 'pt', 'ru', 'uk', 'zh-hans' ];

/** The message groups of the repository. */
export const GROUPS = [ join( here, '../i18n' ), resolve( here, '../../crates/export/i18n' ) ];

/** Plural categories a translation may leave to its last form. */
const OPTIONAL_CATEGORIES = {
	fr: [ 'many' ], es: [ 'many' ], pt: [ 'many' ], he: [ 'two' ], ru: [ 'other' ], uk: [ 'other' ]
};

const keys = ( m ) => Object.keys( m ).filter( ( k ) => !k.startsWith( '@' ) );
const params = ( s ) => [ ...new Set( s.match( /\$\d+/g ) || [] ) ].sort();

/** The plural categories of a language, as banana-i18n counts them. */
export function pluralCategories( lang ) {
	return new Intl.PluralRules( lang ).resolvedOptions().pluralCategories;
}

/** How many plural forms a translation into `lang` needs at least. */
export function minPluralForms( lang ) {
	const optional = OPTIONAL_CATEGORIES[ lang ] || [];
	return Math.max( 1, pluralCategories( lang ).filter( ( c ) => !optional.includes( c ) ).length );
}

/**
 * The `{{NAME:$n|form|…}}` calls of a message, with nesting balanced, or a
 * string saying what is wrong with the braces.
 */
export function magicWords( text ) {
	const out = [];
	let depth = 0;
	let start = -1;
	for ( let i = 0; i < text.length; i++ ) {
		if ( text.startsWith( '{{', i ) ) {
			if ( depth === 0 ) {
				start = i;
			}
			depth++;
			i++;
		} else if ( text.startsWith( '}}', i ) ) {
			if ( depth === 0 ) {
				return 'a "}}" closes nothing';
			}
			depth--;
			i++;
			if ( depth === 0 ) {
				out.push( text.slice( start + 2, i - 1 ) );
			}
		}
	}
	return depth === 0 ? out : 'a "{{" is not closed';
}

/** The problems of one message: `lang`'s text of `key` against English's. */
export function checkMessage( lang, key, text, english ) {
	const problems = [];
	const say = ( what ) => problems.push( `${ lang }: ${ key }: ${ what }` );
	const calls = magicWords( text );
	if ( typeof calls === 'string' ) {
		say( calls );
		return problems;
	}
	const englishParams = params( english );
	const genderOnly = englishParams.filter( ( p ) => {
		const outside = english.replace( /\{\{GENDER:\$\d+/g, '' );
		return !params( outside ).includes( p );
	} );
	for ( const call of calls ) {
		const m = /^(PLURAL|GENDER):\s*(\$\d+)\s*\|([\s\S]*)$/.exec( call );
		if ( !m ) {
			say( `"{{${ call }}}" is not {{PLURAL:$n|…}} or {{GENDER:$n|…}}` );
			continue;
		}
		const [ , word, param, rest ] = m;
		if ( !englishParams.includes( param ) ) {
			say( `${ word } on ${ param }, which English does not have` );
		}
		const forms = splitForms( rest );
		if ( word === 'GENDER' ) {
			if ( forms.length < 1 || forms.length > 3 ) {
				say( `GENDER has ${ forms.length } forms (1 to 3: male|female|unknown)` );
			}
			continue;
		}
		const plain = forms.filter( ( f ) => !/^\s*\d+\s*=/.test( f ) );
		if ( lang === 'qqq' ) {
			continue;
		}
		const most = pluralCategories( lang === 'en' ? 'en' : lang ).length;
		const least = minPluralForms( lang );
		if ( plain.length > most ) {
			say( `PLURAL has ${ plain.length } forms; ${ lang } has ${ most } (${ pluralCategories( lang ).join( ', ' ) })` );
		} else if ( plain.length < least ) {
			say( `PLURAL has ${ plain.length } forms; ${ lang } needs ${ least } (${ pluralCategories( lang ).join( ', ' ) })` );
		}
	}
	if ( lang !== 'en' && lang !== 'qqq' ) {
		const mine = params( text );
		const missing = englishParams.filter( ( p ) => !mine.includes( p ) && !genderOnly.includes( p ) );
		const extra = mine.filter( ( p ) => !englishParams.includes( p ) );
		if ( missing.length ) {
			say( `leaves out ${ missing.join( ', ' ) }` );
		}
		if ( extra.length ) {
			say( `has ${ extra.join( ', ' ) }, which English does not` );
		}
	}
	return problems;
}

/** `a|b|{{X:$1|c|d}}|e` split on the `|` outside nested braces. */
function splitForms( s ) {
	const out = [];
	let depth = 0;
	let cur = '';
	for ( let i = 0; i < s.length; i++ ) {
		if ( s.startsWith( '{{', i ) ) {
			depth++;
			cur += '{{';
			i++;
		} else if ( s.startsWith( '}}', i ) ) {
			depth--;
			cur += '}}';
			i++;
		} else if ( s[ i ] === '|' && depth === 0 ) {
			out.push( cur );
			cur = '';
		} else {
			cur += s[ i ];
		}
	}
	out.push( cur );
	return out;
}

/**
 * Every problem of a group: `files` maps a language code to its parsed
 * file (or to an Error when it did not parse).
 */
export function checkGroup( files, { name = 'messages', languages = LANGUAGES } = {} ) {
	const problems = [];
	for ( const [ lang, m ] of Object.entries( files ) ) {
		if ( m instanceof Error ) {
			problems.push( `${ name }/${ lang }.json does not parse: ${ m.message }` );
			continue;
		}
		if ( !m[ '@metadata' ] || typeof m[ '@metadata' ] !== 'object' ) {
			problems.push( `${ name }/${ lang }.json has no @metadata` );
		}
		for ( const k of keys( m ) ) {
			if ( typeof m[ k ] !== 'string' || m[ k ].trim() === '' ) {
				problems.push( `${ lang }: ${ k }: empty or not a string` );
			}
		}
	}
	const en = files.en;
	const qqq = files.qqq;
	if ( !en || en instanceof Error || !qqq || qqq instanceof Error ) {
		problems.push( `${ name }: en.json and qqq.json are both needed` );
		return problems;
	}
	for ( const k of keys( en ) ) {
		if ( !( k in qqq ) ) {
			problems.push( `qqq: ${ k } is not documented` );
		} else {
			const undocumented = params( en[ k ] ).filter( ( p ) => !qqq[ k ].includes( p ) );
			if ( undocumented.length ) {
				problems.push( `qqq: ${ k } does not say what ${ undocumented.join( ', ' ) } is` );
			}
		}
	}
	for ( const lang of languages ) {
		if ( !files[ lang ] ) {
			problems.push( `${ name }: ${ lang }.json is missing` );
		}
	}
	for ( const lang of Object.keys( files ) ) {
		if ( lang !== 'qqq' && !languages.includes( lang ) ) {
			problems.push( `${ name }: ${ lang }.json is no interface language (add it to LANGUAGES in scripts/check-messages.mjs and src/i18n.js, and to crates/export/src/messages.rs)` );
		}
	}
	for ( const [ lang, m ] of Object.entries( files ) ) {
		if ( m instanceof Error ) {
			continue;
		}
		for ( const k of keys( m ) ) {
			if ( !( k in en ) ) {
				problems.push( `${ lang }: ${ k } is not an English key` );
			}
		}
		if ( lang === 'qqq' ) {
			continue;
		}
		if ( languages.includes( lang ) ) {
			for ( const k of keys( en ) ) {
				if ( !( k in m ) ) {
					problems.push( `${ lang }: ${ k } is missing` );
				}
			}
		}
		for ( const k of keys( m ) ) {
			if ( k in en && typeof m[ k ] === 'string' ) {
				problems.push( ...checkMessage( lang, k, m[ k ], en[ k ] ) );
			}
		}
	}
	return problems;
}

/** Reads a group's directory: language code → parsed file or Error. */
export function readGroup( dir ) {
	const files = {};
	for ( const f of readdirSync( dir ).filter( ( x ) => x.endsWith( '.json' ) ) ) {
		try {
			files[ f.slice( 0, -5 ) ] = JSON.parse( readFileSync( join( dir, f ), 'utf8' ) );
		} catch ( e ) {
			files[ f.slice( 0, -5 ) ] = e;
		}
	}
	return files;
}

if ( process.argv[ 1 ] && resolve( process.argv[ 1 ] ) === fileURLToPath( import.meta.url ) ) {
	const dirs = process.argv.length > 2 ? process.argv.slice( 2 ).map( ( d ) => resolve( d ) ) : GROUPS;
	let all = [];
	for ( const d of dirs ) {
		all = all.concat( checkGroup( readGroup( d ), { name: d } ) );
	}
	for ( const p of all ) {
		console.log( p );
	}
	console.log( all.length ? `${ all.length } problems` : 'messages: all languages complete and well-formed' );
	process.exit( all.length ? 1 : 0 );
}
