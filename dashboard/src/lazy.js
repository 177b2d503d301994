// Views loaded when they are first shown, each a chunk of its own: the
// item view (with the sanitiser, DOMPurify), its patrol panels (actions on
// the wiki, the diff with its sanitiser, the editor), a workflow's room, the
// admin tools, a person's reports, the code-of-conduct prompt, the
// shortcuts dialog, the reason dialog and the notice of one's own edits
// under discussion. The page's first script
// holds only what the list needs; `warm` fetches the item view and its
// panels once the browser is idle, so that opening the first item does not
// wait for them.

import { defineAsyncComponent, h } from 'vue';
import { CdxMessage } from '@wikimedia/codex';
import { t } from './i18n.js';

/** What shows when a view's chunk cannot be fetched (offline, or a new deployment). */
const Failed = {
	name: 'ViewFailed',
	render: () => h( CdxMessage, { type: 'error', 'data-testid': 'view-failed' }, () => t( 'patrolchat-view-failed' ) )
};

/**
 * A component loaded on first use; a failed fetch is tried twice more
 * before the error shows.
 *
 * @param {() => Promise<any>} loader
 */
export function lazy( loader ) {
	return defineAsyncComponent( {
		loader,
		errorComponent: Failed,
		onError( error, retry, fail, attempts ) {
			if ( attempts <= 2 ) {
				setTimeout( retry, 500 * attempts );
			} else {
				fail();
			}
		}
	} );
}

const loadItemView = () => import( './components/ItemView.vue' );
const loadPatrolPanels = () => import( './components/PatrolPanels.vue' );

export const ItemView = lazy( loadItemView );
export const PatrolPanels = lazy( loadPatrolPanels );
export const AdminPane = () => import( './components/AdminPane.vue' );
export const MyReports = () => import( './components/MyReports.vue' );
export const RoomView = () => import( './components/RoomView.vue' );
export const ConductDialog = lazy( () => import( './components/ConductDialog.vue' ) );
export const ShortcutsDialog = lazy( () => import( './components/ShortcutsDialog.vue' ) );
export const ReasonDialog = lazy( () => import( './components/ReasonDialog.vue' ) );
export const DiscussedNotice = lazy( () => import( './components/DiscussedNotice.vue' ) );

/** Fetches the item view's chunks when the browser is idle. */
export function warm() {
	const idle = window.requestIdleCallback || ( ( f ) => setTimeout( f, 200 ) );
	idle( () => {
		loadItemView().then( loadPatrolPanels ).catch( () => {
			// Fetched again, with retries, when an item is opened.
		} );
	} );
}
