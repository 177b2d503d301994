// Prints what the JavaScript the page loads (dist/assets/*.js) weighs on
// the wire, as the api sends it: the brotli copy (`.br`) to browsers that
// accept br, the gzip copy (`.gz`) to those that accept only gzip (both
// written by scripts/compress.mjs); fails when either is over the budget
// (300 KB), when the initial script (what index.html names, before any
// lazy chunk) is over 90 KB as brotli, or when a script has no compressed
// copy.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';

const BUDGET = 300 * 1024;
const INITIAL_BUDGET = 90 * 1024;
const dir = new URL( '../dist/assets/', import.meta.url );
let files;
try {
	files = readdirSync( dir ).filter( ( f ) => f.endsWith( '.js' ) ).sort();
} catch {
	console.error( 'size: no dist/assets: run `npm run build` first' );
	process.exit( 1 );
}
const kb = ( n ) => ( n / 1024 ).toFixed( 1 );
const copy = ( f, ext ) => {
	const u = new URL( `${ f }.${ ext }`, dir );
	return existsSync( u ) ? statSync( u ).size : null;
};
const html = readFileSync( new URL( '../index.html', dir ), 'utf8' );
const initial = new Set( [ ...html.matchAll( /<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/assets\/([^"]+)"/g ) ].map( ( m ) => m[ 1 ] ) );
let initialBr = 0;
let raw = 0;
let br = 0;
let gz = 0;
const missing = [];
for ( const f of files ) {
	const size = readFileSync( new URL( f, dir ) ).length;
	const b = copy( f, 'br' );
	const z = copy( f, 'gz' );
	if ( b === null || z === null ) {
		missing.push( f );
	}
	raw += size;
	br += b ?? size;
	if ( initial.has( f ) ) {
		initialBr += b ?? size;
	}
	gz += z ?? size;
	console.log( `${ ( f + ( initial.has( f ) ? ' (initial)' : '' ) ).padEnd( 40 ) } ${ kb( size ).padStart( 8 ) } KB  ${ kb( b ?? size ).padStart( 7 ) } KB br  ${ kb( z ?? size ).padStart( 7 ) } KB gzip` );
}
const css = readdirSync( dir ).filter( ( f ) => f.endsWith( '.css' ) );
const cssBr = css.reduce( ( s, f ) => s + ( copy( f, 'br' ) ?? statSync( new URL( f, dir ) ).size ), 0 );
console.log( `total JS: ${ kb( raw ) } KB, sent as ${ kb( br ) } KB br or ${ kb( gz ) } KB gzip (budget ${ BUDGET / 1024 } KB); CSS sent as ${ kb( cssBr ) } KB br` );
if ( missing.length ) {
	console.error( `size: no .br or .gz copy of ${ missing.join( ', ' ) }: run \`npm run build\` (it runs scripts/compress.mjs)` );
	process.exit( 1 );
}
console.log( `initial script: ${ kb( initialBr ) } KB br (budget ${ INITIAL_BUDGET / 1024 } KB); the rest are chunks loaded later` );
if ( initialBr > INITIAL_BUDGET ) {
	console.error( 'size: the initial script is over budget' );
	process.exit( 1 );
}
if ( br > BUDGET || gz > BUDGET ) {
	console.error( 'size: over budget' );
	process.exit( 1 );
}
