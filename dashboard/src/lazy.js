// Views loaded when they are first shown, each a chunk of its own: the
// item view (with the sanitiser, DOMPurify), its patrol panels (actions on
// the wiki, the diff with its sanitiser, the editor), a workflow's room, the
// admin tools, a person's reports, search, the inbox, conversations, the
// sign-in page, the code-of-conduct prompt, the
// shortcuts dialog, the reason dialog and the notice of one's own edits
// under discussion. The page's first script
// holds only what the list needs; `warm` fetches the item view and its
// panels once the browser is idle, so that opening the first item does not
// wait for them. Each view's chunk comes with the English messages of the
// views (`loadViewMessages`), which the first script does not carry.

import { defineAsyncComponent, h } from 'vue';
import { CdxMessage } from '@wikimedia/codex';
import { t, loadViewMessages } from './i18n.js';

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

/**
 * A view's loader that also fetches the views' English messages.
 *
 * @param {() => Promise<any>} loader
 * @return {() => Promise<any>}
 */
export function withMessages( loader ) {
	return () => Promise.all( [ loader(), loadViewMessages() ] ).then( ( [ m ] ) => m );
}

const loadItemView = withMessages( () => import( './components/ItemView.vue' ) );
const loadPatrolPanels = withMessages( () => import( './components/PatrolPanels.vue' ) );

export const ItemView = lazy( loadItemView );
export const PatrolPanels = lazy( loadPatrolPanels );
export const AdminPane = withMessages( () => import( './components/AdminPane.vue' ) );
export const MyReports = withMessages( () => import( './components/MyReports.vue' ) );
export const RoomView = withMessages( () => import( './components/RoomView.vue' ) );
export const SearchView = withMessages( () => import( './components/SearchView.vue' ) );
export const InboxView = withMessages( () => import( './components/InboxView.vue' ) );
export const ConversationsView = withMessages( () => import( './components/ConversationsView.vue' ) );
export const ConversationView = withMessages( () => import( './components/ConversationView.vue' ) );
export const ConductDialog = lazy( withMessages( () => import( './components/ConductDialog.vue' ) ) );
export const ShortcutsDialog = lazy( withMessages( () => import( './components/ShortcutsDialog.vue' ) ) );
export const ReasonDialog = lazy( withMessages( () => import( './components/ReasonDialog.vue' ) ) );
export const SignIn = lazy( withMessages( () => import( './components/SignIn.vue' ) ) );
export const DiscussedNotice = lazy( withMessages( () => import( './components/DiscussedNotice.vue' ) ) );

/** Fetches the item view's chunks when the browser is idle. */
export function warm() {
	const idle = window.requestIdleCallback || ( ( f ) => setTimeout( f, 200 ) );
	idle( () => {
		loadItemView().then( loadPatrolPanels ).catch( () => {
			// Fetched again, with retries, when an item is opened.
		} );
	} );
}
