// People's grammatical gender, as their wiki's preference says it
// (`GET /api/v1/users/genders`), for messages with {{GENDER:$n|…}}.
// A name not known yet reads as "unknown" (the neutral form) and is asked
// for with the others wanted in the same moment; the messages that named
// it render again when the answer comes.

import { reactive } from 'vue';
import { api } from './api.js';

/** Name → `male`, `female` or `unknown`. */
const known = reactive( new Map() );
/** Names asked for, or being asked for. */
const asked = new Set();
let wanted = new Set();
let timer = null;
/** Name → the callbacks waiting for its answer (`genderFor`). */
const waiting = new Map();

function settle( name, gender ) {
	for ( const resolve of waiting.get( name ) || [] ) {
		resolve( gender );
	}
	waiting.delete( name );
}

/** At most this many names a request (the api's limit). */
const BATCH = 50;

/** Records a person's gender that the page learnt otherwise (`/me`). */
export function noteGender( name, gender ) {
	if ( name ) {
		asked.add( name );
		known.set( name, gender === 'male' || gender === 'female' ? gender : 'unknown' );
	}
}

/**
 * A person's gender for {{GENDER}}: `male`, `female` or `unknown`.
 * Reading it makes the render depend on the answer.
 *
 * @param {string} name
 * @return {string}
 */
export function genderOf( name ) {
	if ( !name || typeof name !== 'string' ) {
		return 'unknown';
	}
	const g = known.get( name );
	if ( g ) {
		return g;
	}
	if ( !asked.has( name ) ) {
		asked.add( name );
		wanted.add( name );
		timer = timer || setTimeout( flush, 0 );
	}
	return 'unknown';
}

async function flush() {
	timer = null;
	const names = [ ...wanted ];
	wanted = new Set();
	for ( let i = 0; i < names.length; i += BATCH ) {
		const batch = names.slice( i, i + BATCH );
		try {
			const r = await api( 'GET', `/api/v1/users/genders?names=${ encodeURIComponent( batch.join( '|' ) ) }`, undefined, { quiet401: true } );
			const genders = ( r && r.genders ) || {};
			for ( const n of batch ) {
				known.set( n, genders[ n ] === 'male' || genders[ n ] === 'female' ? genders[ n ] : 'unknown' );
				settle( n, known.get( n ) );
			}
		} catch {
			// Signed out or unreachable: asked again the next time it is named.
			for ( const n of batch ) {
				asked.delete( n );
				settle( n, 'unknown' );
			}
		}
	}
}

/**
 * A person's gender once the api has answered (for text made once, such
 * as a notice); `unknown` when it cannot say.
 *
 * @param {string} name
 * @return {Promise<string>}
 */
export function genderFor( name ) {
	const now = genderOf( name );
	if ( !name || known.has( name ) || !wanted.has( name ) ) {
		return Promise.resolve( known.get( name ) || now );
	}
	return new Promise( ( resolve ) => {
		waiting.set( name, [ ...( waiting.get( name ) || [] ), resolve ] );
	} );
}

/** Forgets everything (sign-out, tests). */
export function forgetGenders() {
	known.clear();
	asked.clear();
	wanted = new Set();
}
