// The admin tools' and reports' calls (the moderation log, reports,
// mutes, private notes, a person's own reports), loaded with the views
// that use them; what every page needs (ignores, the reason dialog) is
// the moderation store.
import { api, seg } from './api.js';
import { t } from './i18n.js';
import { genderOf } from './genders.js';
import { errorText } from './errors.js';
import { useSessionStore } from './stores/session.js';
import { useThreadsStore } from './stores/threads.js';

function notify( type, text ) {
	useSessionStore().notify( type, text );
}

/** The open items of the private `reports` workflow, each with its report. */
export async function loadReports() {
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

export async function resolveReport( id, outcome, note ) {
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

export async function loadAudit( { actor, target, kind, before } = {} ) {
	const q = new URLSearchParams();
	for ( const [ k, v ] of Object.entries( { actor, target, kind, before } ) ) {
		if ( v !== undefined && v !== null && String( v ).trim() !== '' ) {
			q.set( k, String( v ).trim() );
		}
	}
	q.set( 'limit', '100' );
	return api( 'GET', `/api/v1/audit?${ q }` );
}

export async function muteUser( name, hours, reason, wiki = '*' ) {
	const body = { wiki, reason: reason.trim() };
	if ( hours ) {
		body.duration_s = Math.max( 1, Math.round( hours * 3600 ) );
	}
	try {
		await api( 'POST', `/api/v1/users/${ seg( name.trim() ) }/mute`, body );
		notify( 'success', t( 'patrolchat-muted-notice', name.trim(), genderOf( name.trim() ) ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

export async function unmuteUser( name, reason, wiki = '*' ) {
	try {
		await api( 'POST', `/api/v1/users/${ seg( name.trim() ) }/unmute`, { wiki, reason: reason.trim() } );
		notify( 'success', t( 'patrolchat-unmuted-notice', name.trim(), genderOf( name.trim() ) ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

export async function loadNotes( id ) {
	const notes = await api( 'GET', `/api/v1/items/${ seg( id ) }/notes` );
	return Array.isArray( notes ) ? notes : [];
}

export async function addNote( id, text ) {
	try {
		return await api( 'POST', `/api/v1/items/${ seg( id ) }/notes`, { text: text.trim() } );
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return null;
	}
}

export async function loadMyReports() {
	const r = await api( 'GET', '/api/v1/me/reports' );
	return Array.isArray( r ) ? r : [];
}

/** Ignores (collapses the messages of) a person, or stops; `mod` is the moderation store. */
export async function setIgnored( mod, name, on ) {
	try {
		await api( on ? 'PUT' : 'DELETE', `/api/v1/me/ignores/${ seg( name ) }` );
		mod.ignores = on ? [ ...new Set( [ ...mod.ignores, name ] ) ] : mod.ignores.filter( ( n ) => n !== name );
		notify( 'success', t( on ? 'patrolchat-ignored-notice' : 'patrolchat-unignored-notice', name ) );
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	}
}

/** Sends the reason dialog of the moderation store `mod`: a report or (admins) a hide. */
export async function submitReason( mod, reason ) {
	const dlg = mod.dialog;
	if ( !dlg || !reason.trim() ) {
		return false;
	}
	mod.busy = true;
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
		mod.dialog = null;
		return true;
	} catch ( e ) {
		notify( 'error', errorText( e ) );
		return false;
	} finally {
		mod.busy = false;
	}
}
