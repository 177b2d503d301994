// Starting up: who is signed in, and keeping the loaded data in step with
// the route.
import { ref, watch } from 'vue';
import {
	state, list, current, visibleRows, filters, checkAuth, probeDevLogin, startSession,
	loadWorkflows, loadList, openItem, closeItem, openRoom, defaultWorkflow, errorText, workflowOf
} from './store.js';
import { route, go } from './router.js';
import { backoff } from './text.js';

/** Why the page could not start, while it retries. */
export const bootError = ref( '' );

let attempt = 0;

/** Reads the session, retrying while the api cannot be reached. */
export async function boot() {
	try {
		const signedIn = await checkAuth();
		bootError.value = '';
		attempt = 0;
		if ( !signedIn ) {
			await probeDevLogin();
		}
	} catch ( e ) {
		bootError.value = errorText( e );
		setTimeout( boot, backoff( attempt++ ) );
	}
}

function syncRoute() {
	if ( !state.me ) {
		return;
	}
	if ( route.name === 'home' ) {
		if ( state.workflowsLoaded ) {
			const wf = defaultWorkflow();
			if ( wf ) {
				go( 'queue', wf, null, { replace: true } );
			}
		}
		return;
	}
	if ( route.wf && route.wf !== list.wf && route.name !== 'room' && route.name !== 'admin' && route.name !== 'my-reports' ) {
		if ( list.wf && filters.wiki && state.workflowsLoaded ) {
			const wf = workflowOf( route.wf );
			if ( wf && !wf.wikis.some( ( w ) => w.wiki === filters.wiki ) ) {
				filters.wiki = '';
			}
		}
		loadList( route.wf );
	}
	if ( route.name === 'item' || route.name === 'thread' ) {
		openItem( route.id );
		const i = visibleRows.value.findIndex( ( r ) => r.id === route.id );
		if ( i !== -1 ) {
			list.cursor = i;
		}
	} else {
		closeItem();
	}
	if ( route.name === 'room' && route.wf ) {
		openRoom( route.wf );
	}
}

/** Wires route and session changes to loads. */
export function startSync() {
	watch( () => state.me && state.me.name, ( name, before ) => {
		if ( name && name !== before ) {
			startSession();
			loadWorkflows().then( syncRoute, ( e ) => {
				bootError.value = errorText( e );
			} );
			syncRoute();
		} else if ( !name ) {
			probeDevLogin();
		}
	} );
	watch( () => [ route.name, route.wf, route.id ], syncRoute );
	// An item opened by its id alone: put it under its first workflow.
	watch( () => current.detail && current.detail.item, ( item ) => {
		if ( item && !route.wf && ( route.name === 'item' || route.name === 'thread' ) && item.workflows && item.workflows[ 0 ] ) {
			go( route.name, item.workflows[ 0 ], item.id, { replace: true } );
		}
	} );
	// Keep the keyboard cursor on its row as rows come and go.
	let cursorId = null;
	watch( () => list.cursor, ( i ) => {
		const r = visibleRows.value[ i ];
		cursorId = r ? r.id : null;
	} );
	watch( visibleRows, ( rowsNow ) => {
		const i = cursorId ? rowsNow.findIndex( ( r ) => r.id === cursorId ) : -1;
		if ( i !== -1 ) {
			list.cursor = i;
			return;
		}
		if ( list.cursor >= rowsNow.length ) {
			list.cursor = Math.max( 0, rowsNow.length - 1 );
		}
		const r = rowsNow[ list.cursor ];
		cursorId = r ? r.id : null;
	} );
}
