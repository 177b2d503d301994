// Draws public/icon-192.png and public/icon-512.png (the same picture as
// public/icon.svg: a white speech bubble with a tick on Codex blue), with
// no dependency: pixels by hand, PNG by zlib. Run it after changing the
// picture: `node scripts/make-icons.mjs`.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BLUE = [ 0x33, 0x66, 0xcc ];
const WHITE = [ 0xff, 0xff, 0xff ];

function crc32( buf ) {
	let c = ~0;
	for ( const b of buf ) {
		c ^= b;
		for ( let k = 0; k < 8; k++ ) {
			c = ( c >>> 1 ) ^ ( 0xedb88320 & -( c & 1 ) );
		}
	}
	return ~c >>> 0;
}

function chunk( type, data ) {
	const len = Buffer.alloc( 4 );
	len.writeUInt32BE( data.length );
	const td = Buffer.concat( [ Buffer.from( type ), data ] );
	const crc = Buffer.alloc( 4 );
	crc.writeUInt32BE( crc32( td ) );
	return Buffer.concat( [ len, td, crc ] );
}

function distToSegment( px, py, ax, ay, bx, by ) {
	const dx = bx - ax;
	const dy = by - ay;
	const t = Math.max( 0, Math.min( 1, ( ( px - ax ) * dx + ( py - ay ) * dy ) / ( dx * dx + dy * dy ) ) );
	return Math.hypot( px - ( ax + t * dx ), py - ( ay + t * dy ) );
}

// The picture in the SVG's 64-unit space; null is transparent.
function colour( x, y ) {
	// Maskable: a full square background (safe zone is the middle 80 %).
	let c = BLUE;
	const inBubble = x >= 10 && x <= 54 && y >= 16 && y <= 44;
	const inTail = y >= 44 && y <= 52 && x >= 20 && x <= 30 && ( x - 20 ) >= ( y - 44 ) * 0 && ( 30 - x ) >= ( y - 44 ) * 1.25;
	if ( inBubble || inTail ) {
		c = WHITE;
	}
	const tick = Math.min( distToSegment( x, y, 22, 30, 29, 37 ), distToSegment( x, y, 29, 37, 42, 23 ) );
	if ( tick <= 2.5 ) {
		c = BLUE;
	}
	return c;
}

function png( size ) {
	const s = 4; // samples per axis per pixel
	const rows = [];
	for ( let y = 0; y < size; y++ ) {
		const row = Buffer.alloc( 1 + size * 4 );
		for ( let x = 0; x < size; x++ ) {
			let r = 0, g = 0, b = 0;
			for ( let j = 0; j < s; j++ ) {
				for ( let i = 0; i < s; i++ ) {
					const c = colour( ( x + ( i + 0.5 ) / s ) * 64 / size, ( y + ( j + 0.5 ) / s ) * 64 / size );
					r += c[ 0 ]; g += c[ 1 ]; b += c[ 2 ];
				}
			}
			const n = s * s;
			row.set( [ Math.round( r / n ), Math.round( g / n ), Math.round( b / n ), 255 ], 1 + x * 4 );
		}
		rows.push( row );
	}
	const ihdr = Buffer.alloc( 13 );
	ihdr.writeUInt32BE( size, 0 );
	ihdr.writeUInt32BE( size, 4 );
	ihdr[ 8 ] = 8; // bit depth
	ihdr[ 9 ] = 6; // RGBA
	return Buffer.concat( [
		Buffer.from( [ 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a ] ),
		chunk( 'IHDR', ihdr ),
		chunk( 'IDAT', deflateSync( Buffer.concat( rows ), { level: 9 } ) ),
		chunk( 'IEND', Buffer.alloc( 0 ) )
	] );
}

const dir = new URL( '../public/', import.meta.url );
for ( const size of [ 192, 512 ] ) {
	writeFileSync( new URL( `icon-${ size }.png`, dir ), png( size ) );
}
