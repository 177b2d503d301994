// Starting up: who is signed in, and keeping the loaded data in step with
// the route.
import { ref, watch } from 'vue';
import { useSessionStore } from './stores/session.js';
import { useQueuesStore } from './stores/queues.js';
import { useItemStore } from './stores/item.js';
import { useThreadsStore } from './stores/threads.js';
import { useLiveStore } from './stores/live.js';
import { errorText } from './errors.js';
import { route, go, replaceQuery, setQueryOverlay, navigating } from './router.js';
import { DEFAULT_FILTERS, hasFilterParams, filtersFromQuery, queryOfFilters, withFilters, sameFilters, savedFilters, saveFilters } from './filters.js';
import { backoff } from './text.js';

/** Why the page could not start, while it retries. */
export const bootError = ref( '' );

let attempt = 0;

/** Reads the session, retrying while the api cannot be reached. */
export async function boot() {
	const session = useSessionStore();
	try {
		const signedIn = await session.checkAuth();
		bootError.value = '';
		attempt = 0;
		if ( !signedIn ) {
			await session.probeDevLogin();
		}
	} catch ( e ) {
		bootError.value = errorText( e );
		setTimeout( boot, backoff( attempt++ ) );
	}
}

function syncRoute() {
	const session = useSessionStore();
	const queues = useQueuesStore();
	const item = useItemStore();
	if ( !session.me || !route.ready ) {
		return;
	}
	const { list, filters } = queues;
	if ( route.name === 'home' ) {
		if ( queues.workflowsLoaded ) {
			const wf = queues.defaultWorkflow();
			if ( wf ) {
				go( 'queue', wf, null, { replace: true } );
			}
		}
		return;
	}
	if ( route.wf && route.wf !== list.wf && route.name !== 'room' && route.name !== 'admin' && route.name !== 'my-reports' ) {
		if ( list.wf && filters.wiki && queues.workflowsLoaded ) {
			const wf = queues.workflowOf( route.wf );
			if ( wf && !wf.wikis.some( ( w ) => w.wiki === filters.wiki ) ) {
				filters.wiki = '';
			}
		}
		queues.loadList( route.wf );
	}
	if ( route.name === 'item' || route.name === 'thread' ) {
		item.openItem( route.id );
		const i = queues.visibleRows.findIndex( ( r ) => r.id === route.id );
		if ( i !== -1 ) {
			list.cursor = i;
		}
	} else {
		item.closeItem();
	}
	if ( route.name === 'room' && route.wf ) {
		useThreadsStore().openRoom( route.wf );
	}
}

/** The views that show the item list. */
const LIST_VIEWS = [ 'home', 'queue', 'item', 'thread' ];

/**
 * The list's filters from the URL: its query says them; a list view whose
 * URL names none takes the person's last choice into its URL.
 */
function syncFilters() {
	const session = useSessionStore();
	const queues = useQueuesStore();
	if ( !route.ready ) {
		return;
	}
	const q = route.query;
	if ( hasFilterParams( q ) ) {
		queues.setFilters( filtersFromQuery( q ) );
		return;
	}
	if ( !LIST_VIEWS.includes( route.name ) ) {
		return;
	}
	const saved = session.me ? savedFilters( session.me.name ) : null;
	if ( saved && Object.keys( queryOfFilters( saved ) ).length ) {
		replaceQuery( withFilters( q, saved ) );
		queues.setFilters( saved );
		return;
	}
	if ( !navigating() ) {
		queues.setFilters( DEFAULT_FILTERS );
	}
}

/** Wires route and session changes to loads. */
export function startSync() {
	const session = useSessionStore();
	const queues = useQueuesStore();
	const item = useItemStore();
	setQueryOverlay( ( q ) => withFilters( q, queues.filters ) );
	watch( () => [ route.ready, route.query, session.me && session.me.name ], syncFilters, { immediate: true } );
	// A filter chosen on the page goes into the URL (a navigation under way
	// takes it along) and is kept for the person.
	watch( () => ( { ...queues.filters } ), ( f ) => {
		if ( !route.ready ) {
			return;
		}
		if ( !navigating() && !sameFilters( filtersFromQuery( route.query ), f ) ) {
			replaceQuery( withFilters( route.query, f ) );
		}
		if ( session.me ) {
			saveFilters( session.me.name, f );
		}
	} );
	watch( () => session.me && session.me.name, ( name, before ) => {
		if ( name && name !== before ) {
			useLiveStore().startSession();
			queues.loadWorkflows().then( syncRoute, ( e ) => {
				bootError.value = errorText( e );
			} );
			syncRoute();
		} else if ( !name ) {
			session.probeDevLogin();
		}
	} );
	watch( () => [ route.ready, route.name, route.wf, route.id ], syncRoute );
	// An item opened by its id alone: put it under its first workflow.
	watch( () => item.current.detail && item.current.detail.item, ( it ) => {
		if ( it && !route.wf && ( route.name === 'item' || route.name === 'thread' ) && it.workflows && it.workflows[ 0 ] ) {
			go( route.name, it.workflows[ 0 ], it.id, { replace: true } );
		}
	} );
	// Keep the keyboard cursor on its row as rows come and go.
	let cursorId = null;
	watch( () => queues.list.cursor, ( i ) => {
		const r = queues.visibleRows[ i ];
		cursorId = r ? r.id : null;
	} );
	watch( () => queues.visibleRows, ( rowsNow ) => {
		const i = cursorId ? rowsNow.findIndex( ( r ) => r.id === cursorId ) : -1;
		if ( i !== -1 ) {
			queues.list.cursor = i;
			return;
		}
		if ( queues.list.cursor >= rowsNow.length ) {
			queues.list.cursor = Math.max( 0, rowsNow.length - 1 );
		}
		const r = rowsNow[ queues.list.cursor ];
		cursorId = r ? r.id : null;
	} );
}
