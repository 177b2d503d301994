// Writes a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) copy
// beside every file of dist/ that compresses smaller, for the api to send
// to browsers that accept them (Accept-Encoding). Run after `vite build`
// (`npm run build` does). A copy that would not be smaller is not written:
// the api then sends the file itself. node:zlib does it all; no plugin.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = fileURLToPath( new URL( '../dist/', import.meta.url ) );

function files( dir ) {
	return readdirSync( dir ).flatMap( ( f ) => {
		const p = join( dir, f );
		return statSync( p ).isDirectory() ? files( p ) : [ p ];
	} );
}

let count = 0;
for ( const file of files( dist ).filter( ( f ) => !/\.(br|gz)$/.test( f ) ) ) {
	const raw = readFileSync( file );
	const copies = {
		br: brotliCompressSync( raw, {
			params: {
				[ constants.BROTLI_PARAM_QUALITY ]: constants.BROTLI_MAX_QUALITY,
				[ constants.BROTLI_PARAM_SIZE_HINT ]: raw.length
			}
		} ),
		gz: gzipSync( raw, { level: 9 } )
	};
	for ( const [ ext, body ] of Object.entries( copies ) ) {
		if ( body.length < raw.length ) {
			writeFileSync( `${ file }.${ ext }`, body );
			count++;
		}
	}
}
console.log( `compress: ${ count } .br and .gz copies in dist/` );
