// The English messages in two parts, so that the page's first script
// carries only the messages its first views can show: `virtual:messages/
// initial` holds every message named in a module the entry (src/main.js)
// imports statically (directly or through other modules), every message a
// template literal there may build (`patrolchat-role-${ role }`: every key
// with that prefix) and every message not named `patrolchat-…` (Codex's
// own); `virtual:messages/views` holds the rest, the messages of views
// loaded as chunks (lazy.js loads them with the first such view).
// i18n/en.json stays the one file of English messages.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join( dirname( fileURLToPath( import.meta.url ) ), '..' );
const IDS = { initial: 'virtual:messages/initial', views: 'virtual:messages/views' };

/** The relative modules a file imports statically (not `import()`). */
function staticImports( file, text ) {
	const out = [];
	const re = /(?:^|[\n;])\s*(?:import|export)\s+(?:[^'"`;]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;
	for ( const m of text.matchAll( re ) ) {
		const p = resolve( dirname( file ), m[ 1 ] );
		if ( /\.(js|vue|mjs)$/.test( p ) && existsSync( p ) ) {
			out.push( p );
		} else if ( existsSync( `${ p }.js` ) ) {
			out.push( `${ p }.js` );
		}
	}
	return out;
}

/** The files of the entry's static import graph. */
export function initialModules( entry = join( root, 'src/main.js' ) ) {
	const seen = new Set();
	const todo = [ entry ];
	while ( todo.length ) {
		const f = todo.pop();
		if ( seen.has( f ) ) {
			continue;
		}
		seen.add( f );
		todo.push( ...staticImports( f, readFileSync( f, 'utf8' ) ) );
	}
	return seen;
}

/**
 * English split in two: `{initial, views}`, each `key → message`.
 *
 * @param {Object} en the English messages (i18n/en.json)
 * @param {Iterable<string>} files the initial modules
 */
export function splitMessages( en, files ) {
	const named = new Set();
	const prefixes = [];
	for ( const f of files ) {
		const text = readFileSync( f, 'utf8' );
		for ( const m of text.matchAll( /['"`](patrolchat-[a-z0-9-]+)['"`]/g ) ) {
			named.add( m[ 1 ] );
		}
		for ( const m of text.matchAll( /`(patrolchat-[a-z0-9-]+)\$\{/g ) ) {
			prefixes.push( m[ 1 ] );
		}
	}
	const initial = {};
	const views = {};
	for ( const [ k, v ] of Object.entries( en ) ) {
		if ( k.startsWith( '@' ) ) {
			continue;
		}
		const first = !k.startsWith( 'patrolchat-' ) || named.has( k ) || prefixes.some( ( p ) => k.startsWith( p ) );
		( first ? initial : views )[ k ] = v;
	}
	return { initial, views };
}

/** The Vite plugin that serves the two parts. */
export function messagesSplit() {
	return {
		name: 'patrolchat-messages-split',
		resolveId( id ) {
			return Object.values( IDS ).includes( id ) ? `\0${ id }` : null;
		},
		load( id ) {
			const which = Object.keys( IDS ).find( ( k ) => id === `\0${ IDS[ k ] }` );
			if ( !which ) {
				return null;
			}
			const enFile = join( root, 'i18n/en.json' );
			this.addWatchFile( enFile );
			const files = initialModules();
			for ( const f of files ) {
				this.addWatchFile( f );
			}
			const en = JSON.parse( readFileSync( enFile, 'utf8' ) );
			const parts = splitMessages( en, files );
			if ( process.env.VITEST && which === 'initial' ) {
				// Unit tests mount views without their loaders: every message.
				return `export default ${ JSON.stringify( { ...parts.initial, ...parts.views } ) };`;
			}
			return `export default ${ JSON.stringify( parts[ which ] ) };`;
		}
	};
}
