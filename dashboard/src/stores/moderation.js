// Moderation: the people this person ignores, the reason dialog (a report,
// or an admin's hide), and the admin tools' requests (reports, audit log,
// mutes, notes) and the person's own reports.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api, seg } from '../api.js';
import { t } from '../i18n.js';
import { errorText } from '../errors.js';
import { useSessionStore } from './session.js';
import { useThreadsStore } from './threads.js';

export const useModerationStore = defineStore( 'moderation', () => {
	/** Names whose messages this person collapsed. */
	const ignores = ref( [] );
	/** The open reason dialog: `{kind: 'report'|'hide', message}` or null. */
	const dialog = ref( null );
	const busy = ref( false );

	function notify( type, text ) {
		useSessionStore().notify( type, text );
	}

	function isIgnored( name ) {
		return ignores.value.includes( name );
	}

	async function loadIgnores() {
		try {
			const names = await api( 'GET', '/api/v1/me/ignores' );
			ignores.value = Array.isArray( names ) ? names : [];
		} catch {
			// messages stay shown
		}
	}

	async function setIgnored( name, on ) {
		try {
			await api( on ? 'PUT' : 'DELETE', `/api/v1/me/ignores/${ seg( name ) }` );
			ignores.value = on ? [ ...new Set( [ ...ignores.value, name ] ) ] : ignores.value.filter( ( n ) => n !== name );
			notify( 'success', t( on ? 'patrolchat-ignored-notice' : 'patrolchat-unignored-notice', name ) );
			return true;
		} catch ( e ) {
			notify( 'error', errorText( e ) );
			return false;
		}
	}

	/** Opens the reason dialog for a message: `report` or `hide`. */
	function ask( kind, message ) {
		dialog.value = { kind, message };
	}

	function closeDialog() {
		dialog.value = null;
	}

	/** Forgets the ignores and the dialog (sign-out). */
	function forget() {
		ignores.value = [];
		dialog.value = null;
	}

	/** Sends the reason dialog: a report or (admins) a hide. */
	async function submitReason( reason ) {
		const dlg = dialog.value;
		if ( !dlg || !reason.trim() ) {
			return false;
		}
		busy.value = true;
		try {
			const id = dlg.message.id;
			if ( dlg.kind === 'hide' ) {
				await api( 'POST', `/api/v1/messages/${ seg( id ) }/hide`, { reason: reason.trim() } );
				useThreadsStore().markHidden( id, { by: useSessionStore().me.name, reason: reason.trim(), at: Date.now() } );
				notify( 'success', t( 'patrolchat-hidden-notice' ) );
			} else {
				await api( 'POST', `/api/v1/messages/${ seg( id ) }/report`, { reason: reason.trim() } );
				notify( 'success', t( 'patrolchat-reported-notice' ) );
			}
			dialog.value = null;
			return true;
		} catch ( e ) {
			notify( 'error', errorText( e ) );
			return false;
		} finally {
			busy.value = false;
		}
	}

	/** The open items of the private `reports` workflow, each with its report. */
	async function loadReports() {
		const page = await api( 'GET', '/api/v1/workflows/reports/items?limit=500' );
		const views = ( page && page.items ) || [];
		return Promise.all( views.filter( ( v ) => v && v.item ).map( async ( v ) => {
			try {
				const d = await api( 'GET', `/api/v1/items/${ seg( v.item.id ) }` );
				return { id: v.item.id, item: d.item || v.item, report: d.report || null, reported: d.reported || null, state: d.state };
			} catch {
				return { id: v.item.id, item: v.item, report: null, reported: null, state: 'open' };
			}
		} ) );
	}

	async function resolveReport( id, outcome, note ) {
		const body = { outcome };
		if ( note && note.trim() ) {
			body.note = note.trim();
		}
		try {
			await api( 'POST', `/api/v1/items/${ seg( id ) }/resolve`, body );
			notify( 'success', t( 'patrolchat-resolved-notice', t( `patrolchat-outcome-${ outcome }` ) ) );
			return true;
		} catch ( e ) {
			notify( 'error', errorText( e ) );
			return false;
		}
	}

	async function loadAudit( { actor, target, kind, before } = {} ) {
		const q = new URLSearchParams();
		for ( const [ k, v ] of Object.entries( { actor, target, kind, before } ) ) {
			if ( v !== undefined && v !== null && String( v ).trim() !== '' ) {
				q.set( k, String( v ).trim() );
			}
		}
		q.set( 'limit', '100' );
		return api( 'GET', `/api/v1/audit?${ q }` );
	}

	async function muteUser( name, hours, reason, wiki = '*' ) {
		const body = { wiki, reason: reason.trim() };
		if ( hours ) {
			body.duration_s = Math.max( 1, Math.round( hours * 3600 ) );
		}
		try {
			await api( 'POST', `/api/v1/users/${ seg( name.trim() ) }/mute`, body );
			notify( 'success', t( 'patrolchat-muted-notice', name.trim() ) );
			return true;
		} catch ( e ) {
			notify( 'error', errorText( e ) );
			return false;
		}
	}

	async function unmuteUser( name, reason, wiki = '*' ) {
		try {
			await api( 'POST', `/api/v1/users/${ seg( name.trim() ) }/unmute`, { wiki, reason: reason.trim() } );
			notify( 'success', t( 'patrolchat-unmuted-notice', name.trim() ) );
			return true;
		} catch ( e ) {
			notify( 'error', errorText( e ) );
			return false;
		}
	}

	async function loadNotes( id ) {
		const notes = await api( 'GET', `/api/v1/items/${ seg( id ) }/notes` );
		return Array.isArray( notes ) ? notes : [];
	}

	async function addNote( id, text ) {
		try {
			return await api( 'POST', `/api/v1/items/${ seg( id ) }/notes`, { text: text.trim() } );
		} catch ( e ) {
			notify( 'error', errorText( e ) );
			return null;
		}
	}

	async function loadMyReports() {
		const r = await api( 'GET', '/api/v1/me/reports' );
		return Array.isArray( r ) ? r : [];
	}

	return {
		ignores, dialog, busy,
		isIgnored, loadIgnores, setIgnored, ask, closeDialog, forget, submitReason,
		loadReports, resolveReport, loadAudit, muteUser, unmuteUser, loadNotes, addNote, loadMyReports
	};
} );
