// A small history router: the path says which workflow, item and pane.
//
//   /                               the first workflow
//   /queue/{wf}                     its items
//   /queue/{wf}/item/{id}           an item (with its thread on wide screens)
//   /queue/{wf}/item/{id}/thread    an item's thread (its own view on phones)
//   /queue/{wf}/room                the workflow's room
//   /item/{id}                      an item, workflow not yet known
//   /admin                          admin tools
//   /me/reports                     the reports this person filed
// The query string (`?uselang=`) is kept across navigation.

import { reactive } from 'vue';

export const route = reactive( { name: 'home', wf: null, id: null } );

function dec( s ) {
	try {
		return decodeURIComponent( s );
	} catch {
		return s;
	}
}

/**
 * Reads a path.
 *
 * @param {string} path
 * @return {{name: string, wf: string|null, id: string|null}}
 */
export function parsePath( path ) {
	const p = path.split( '/' ).filter( Boolean ).map( dec );
	if ( p[ 0 ] === 'queue' && p[ 1 ] ) {
		if ( p[ 2 ] === 'item' && p[ 3 ] ) {
			return { name: p[ 4 ] === 'thread' ? 'thread' : 'item', wf: p[ 1 ], id: p[ 3 ] };
		}
		if ( p[ 2 ] === 'room' ) {
			return { name: 'room', wf: p[ 1 ], id: null };
		}
		return { name: 'queue', wf: p[ 1 ], id: null };
	}
	if ( p[ 0 ] === 'item' && p[ 1 ] ) {
		return { name: 'item', wf: null, id: p[ 1 ] };
	}
	if ( p[ 0 ] === 'me' && p[ 1 ] === 'reports' ) {
		return { name: 'my-reports', wf: null, id: null };
	}
	if ( p[ 0 ] === 'admin' ) {
		return { name: 'admin', wf: null, id: null };
	}
	return { name: 'home', wf: null, id: null };
}

/** The path of a view. */
export function pathOf( name, wf, id ) {
	const w = wf ? encodeURIComponent( wf ) : null;
	const i = id ? encodeURIComponent( id ) : null;
	switch ( name ) {
		case 'queue': return `/queue/${ w }`;
		case 'item': return w ? `/queue/${ w }/item/${ i }` : `/item/${ i }`;
		case 'thread': return w ? `/queue/${ w }/item/${ i }/thread` : `/item/${ i }`;
		case 'room': return `/queue/${ w }/room`;
		case 'admin': return '/admin';
		case 'my-reports': return '/me/reports';
		default: return '/';
	}
}

function apply() {
	Object.assign( route, parsePath( location.pathname ) );
}

/** Goes to a path (pushing history unless `replace`). */
export function navigate( path, { replace = false } = {} ) {
	const url = path + location.search;
	if ( url !== location.pathname + location.search ) {
		history[ replace ? 'replaceState' : 'pushState' ]( null, '', url );
	}
	apply();
}

/** Goes to a view. */
export function go( name, wf, id, opts ) {
	navigate( pathOf( name, wf, id ), opts );
}

/** Starts listening to back and forward. */
export function startRouter() {
	window.addEventListener( 'popstate', apply );
	apply();
}
