// Moderation: the people this person ignores and the reason dialog (a report,
// or an admin's hide); the requests of the admin tools and the dialog are
// moderationTools.js, loaded with the views that use them.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api.js';

export const useModerationStore = defineStore( 'moderation', () => {
	/** Names whose messages this person collapsed. */
	const ignores = ref( [] );
	/** The open reason dialog: `{kind: 'report'|'hide', message}` or null. */
	const dialog = ref( null );
	const busy = ref( false );

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

	return {
		ignores, dialog, busy,
		isIgnored, loadIgnores, ask, closeDialog, forget
	};
} );
