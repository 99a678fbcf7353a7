/* A GTK 3 program that draws its own file dialog, the way many C
 * applications do (mousepad, GIMP 2, Geany): gtk_file_chooser_dialog_new,
 * gtk_dialog_run, then gtk_file_chooser_get_filename(s). The sandbox's
 * preloaded library must show Airlock's chooser instead and answer here.
 *
 *   gtk3dialog open|open-multiple|folder|save NAME
 *
 * prints "response N" and one "file PATH" per file; for save, writes
 * "saved by gtk3dialog\n" to the file picked. */
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	gtk_init(&argc, &argv);
	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	GtkFileChooserAction action = GTK_FILE_CHOOSER_ACTION_OPEN;
	if (strcmp(mode, "folder") == 0)
		action = GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER;
	else if (strcmp(mode, "save") == 0)
		action = GTK_FILE_CHOOSER_ACTION_SAVE;
	GtkWidget *d = gtk_file_chooser_dialog_new("Pick", NULL, action, "_Cancel", GTK_RESPONSE_CANCEL,
						   action == GTK_FILE_CHOOSER_ACTION_SAVE ? "_Save" : "_Open", GTK_RESPONSE_OK, NULL);
	GtkFileChooser *c = GTK_FILE_CHOOSER(d);
	gtk_file_chooser_set_select_multiple(c, strcmp(mode, "open-multiple") == 0);
	if (action == GTK_FILE_CHOOSER_ACTION_SAVE && argc > 2)
		gtk_file_chooser_set_current_name(c, argv[2]);
	GtkFileFilter *f = gtk_file_filter_new();
	gtk_file_filter_set_name(f, "Text");
	gtk_file_filter_add_pattern(f, "*.txt");
	gtk_file_chooser_add_filter(c, f);
	gint r = gtk_dialog_run(GTK_DIALOG(d));
	printf("response %d\n", r);
	if (r == GTK_RESPONSE_OK) {
		GSList *files = gtk_file_chooser_get_filenames(c);
		for (GSList *l = files; l; l = l->next) {
			printf("file %s\n", (char *)l->data);
			if (action == GTK_FILE_CHOOSER_ACTION_SAVE) {
				FILE *out = fopen(l->data, "w");
				if (!out || fputs("saved by gtk3dialog\n", out) < 0 || fclose(out) != 0)
					printf("save failed\n");
			}
		}
		g_slist_free_full(files, g_free);
		char *folder = gtk_file_chooser_get_current_folder(c);
		printf("folder %s\n", folder ? folder : "(none)");
		g_free(folder);
	}
	fflush(stdout);
	gtk_widget_destroy(d);
	return 0;
}
