// The routes, with Vue Router in history mode: the path says which
// workflow, item and pane.
//
//   /                               the first workflow
//   /queue/{wf}                     its items
//   /queue/{wf}/item/{id}           an item (with its thread on wide screens)
//   /queue/{wf}/item/{id}/thread    an item's thread (its own view on phones)
//   /queue/{wf}/room                the workflow's room
//   /item/{id}                      an item, workflow not yet known
//   /admin                          admin tools
//   /me/reports                     the reports this person filed
//   /search?q=                      search results
//   /inbox                          mentions, replies, resolutions; notification settings
//   /conversations                  private conversations, and starting one
//   /conversations/{id}             one conversation's thread
//
// Any other path is read as `parsePath` reads it (`/queue/patrol/` is the
// queue, `/admin/x` the admin tools, an unknown path home) and replaced by
// that view's path. The query string (`?uselang=`) is kept across
// navigation, and so are the item list's filters (`?wiki=&ns=&user=&
// hide_claimed=1&min_score=&max_score=&min_bytes=&max_bytes=&sort=`,
// filters.js), so a filtered list is a link to share. Every view is a
// history entry, so on phones, where the list,
// the item and the thread are views of their own, the browser's Back goes
// to the previous one.

import { computed, reactive, shallowRef } from 'vue';
import { createRouter, START_LOCATION } from 'vue-router';

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
	if ( p[ 0 ] === 'search' || p[ 0 ] === 'inbox' ) {
		return { name: p[ 0 ], wf: null, id: null };
	}
	if ( p[ 0 ] === 'conversations' ) {
		return p[ 1 ] ? { name: 'conversation', wf: null, id: p[ 1 ] } : { name: 'conversations', wf: null, id: null };
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
		case 'search': return '/search';
		case 'inbox': return '/inbox';
		case 'conversations': return '/conversations';
		case 'conversation': return `/conversations/${ i }`;
		default: return '/';
	}
}

/**
 * The route records, with the components each view shows (`views`: the
 * queue list, the item list, the item pane, the room, the admin pane, the
 * person's reports, search, the inbox, conversations): App.vue has a `<RouterView>` for the queues, one for
 * the list and one for the rest. `meta.view` is the view's name where the
 * record's name differs (an item by its id alone is the item view).
 */
export function routesOf( views ) {
	const workspace = { queues: views.QueueList, list: views.ItemList, default: views.ItemPane };
	return [
		{ path: '/', name: 'home', components: workspace },
		{ path: '/queue/:wf', name: 'queue', components: workspace },
		{ path: '/queue/:wf/item/:id', name: 'item', components: workspace },
		{ path: '/queue/:wf/item/:id/thread', name: 'thread', components: workspace },
		{ path: '/queue/:wf/room', name: 'room', components: { queues: views.QueueList, default: views.RoomView } },
		{ path: '/item/:id', name: 'item-by-id', meta: { view: 'item' }, components: workspace },
		{ path: '/admin', name: 'admin', components: { default: views.AdminPane } },
		{ path: '/me/reports', name: 'my-reports', components: { default: views.MyReports } },
		{ path: '/search', name: 'search', components: { default: views.SearchView } },
		{ path: '/inbox', name: 'inbox', components: { default: views.InboxView } },
		{ path: '/conversations', name: 'conversations', components: { default: views.ConversationsView } },
		{ path: '/conversations/:id', name: 'conversation', components: { default: views.ConversationView } },
		{
			path: '/:rest(.*)*',
			name: 'other',
			redirect: ( to ) => {
				const v = parsePath( to.path );
				return { path: pathOf( v.name, v.wf, v.id ), query: to.query, hash: to.hash };
			}
		}
	];
}

/**
 * The view a resolved route shows.
 *
 * @param {import('vue-router').RouteLocationNormalizedLoaded|null} r
 * @return {{name: string, wf: string|null, id: string|null}}
 */
export function viewOf( r ) {
	if ( !r || r === START_LOCATION || !r.name ) {
		return { name: 'home', wf: null, id: null };
	}
	const p = r.params || {};
	return {
		name: ( r.meta && r.meta.view ) || r.name,
		wf: typeof p.wf === 'string' && p.wf ? p.wf : null,
		id: typeof p.id === 'string' && p.id ? p.id : null
	};
}

/** The router the page navigates with (`makeRouter`). */
const active = shallowRef( null );

/**
 * Makes the router over `history` (the browser's, or a memory history in
 * tests) and makes it the one `route` and `go` use. main.js passes the
 * components, so that this module imports none of them.
 */
export function makeRouter( history, views ) {
	const router = createRouter( { history, routes: routesOf( views ) } );
	active.value = router;
	return router;
}

const view = computed( () => viewOf( active.value && active.value.currentRoute.value ) );

/**
 * The current view, `{name, wf, id}`, as the app reads it; `ready` is
 * false until the first navigation (the page's own URL) is done.
 */
export const route = reactive( {
	name: computed( () => view.value.name ),
	wf: computed( () => view.value.wf ),
	id: computed( () => view.value.id ),
	ready: computed( () => !!active.value && active.value.currentRoute.value !== START_LOCATION ),
	/** The URL's query (`?uselang=`, the list's filters). */
	query: computed( () => ( active.value ? active.value.currentRoute.value.query : {} ) )
} );

/** What navigation does to the query it keeps (`setQueryOverlay`). */
let overlay = ( q ) => q;
/** Navigations started and not yet done. */
let pending = 0;

function track( p ) {
	pending++;
	return Promise.resolve( p ).finally( () => {
		pending--;
	} );
}

/**
 * Sets what every navigation does to the query it keeps: the list's
 * filters, chosen on the page just before a navigation whose URL has not
 * caught up with them yet, go with it.
 */
export function setQueryOverlay( fn ) {
	overlay = fn;
}

/** Whether a navigation is under way (the URL is about to change). */
export function navigating() {
	return pending > 0;
}

/** Goes to a path (pushing history unless `replace`), keeping the query. */
export function navigate( path, { replace = false } = {} ) {
	const router = active.value;
	const to = { path, query: overlay( router.currentRoute.value.query ) };
	return track( replace ? router.replace( to ) : router.push( to ) );
}

/**
 * Goes to a path with a query of its own (the language kept, not the
 * list's filters): `/search?q=`.
 */
export function goWithQuery( path, query ) {
	const router = active.value;
	const { uselang } = router.currentRoute.value.query;
	return track( router.push( { path, query: uselang ? { uselang, ...query } : query } ) );
}

/** Goes to a view. */
export function go( name, wf, id, opts ) {
	return navigate( pathOf( name, wf, id ), opts );
}

/** Sets one query parameter of the current URL when it is there already. */
export function replaceQueryParam( key, value ) {
	const router = active.value;
	const q = router.currentRoute.value.query;
	if ( Object.prototype.hasOwnProperty.call( q, key ) && q[ key ] !== value ) {
		router.replace( { path: router.currentRoute.value.path, query: { ...q, [ key ]: value } } );
	}
}

/** Replaces the current URL's query (no new history entry). */
export function replaceQuery( query ) {
	const router = active.value;
	return track( router.replace( { path: router.currentRoute.value.path, query, hash: router.currentRoute.value.hash } ) );
}
