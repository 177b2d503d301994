// The text of every .js and .vue file under src/, for tests that read the code.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname( fileURLToPath( import.meta.url ) );

export function sources( d = join( here, '../src' ) ) {
	const out = [];
	for ( const f of readdirSync( d ) ) {
		const p = join( d, f );
		if ( statSync( p ).isDirectory() ) {
			out.push( ...sources( p ) );
		} else if ( /\.(js|vue)$/.test( f ) ) {
			out.push( readFileSync( p, 'utf8' ) );
		}
	}
	return out;
}
