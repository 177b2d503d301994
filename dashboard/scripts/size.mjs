// Prints the gzipped size of the JavaScript the page loads (dist/assets/*.js)
// and fails when it is over the budget (300 KB gzipped).
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 300 * 1024;
const dir = new URL( '../dist/assets/', import.meta.url );
let files;
try {
	files = readdirSync( dir ).filter( ( f ) => f.endsWith( '.js' ) ).sort();
} catch {
	console.error( 'size: no dist/assets: run `npm run build` first' );
	process.exit( 1 );
}
let raw = 0;
let gz = 0;
for ( const f of files ) {
	const buf = readFileSync( new URL( f, dir ) );
	const z = gzipSync( buf, { level: 9 } ).length;
	raw += buf.length;
	gz += z;
	console.log( `${ f.padEnd( 40 ) } ${ ( buf.length / 1024 ).toFixed( 1 ).padStart( 8 ) } KB  ${ ( z / 1024 ).toFixed( 1 ).padStart( 7 ) } KB gzip` );
}
const css = readdirSync( dir ).filter( ( f ) => f.endsWith( '.css' ) );
const cssGz = css.reduce( ( s, f ) => s + gzipSync( readFileSync( new URL( f, dir ) ), { level: 9 } ).length, 0 );
console.log( `total JS: ${ ( raw / 1024 ).toFixed( 1 ) } KB, ${ ( gz / 1024 ).toFixed( 1 ) } KB gzipped (budget ${ BUDGET / 1024 } KB); CSS ${ ( cssGz / 1024 ).toFixed( 1 ) } KB gzipped` );
if ( gz > BUDGET ) {
	console.error( 'size: over budget' );
	process.exit( 1 );
}
