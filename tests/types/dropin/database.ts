// A `Database` type as `supabase gen types typescript` writes it (two schemas, a view, a
// function, an enum), with the helper types that generated file ends with. The snippets in
// this folder are supabase-js app code typed with it.
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  __InternalSupabase: { PostgrestVersion: '13.0.4' }
  public: {
    Tables: {
      songs: {
        Row: { id: number; band_id: string; title: string; bpm: number | null; tags: string[]; created_at: string }
        Insert: { id?: number; band_id: string; title: string; bpm?: number | null; tags?: string[]; created_at?: string }
        Update: { id?: number; band_id?: string; title?: string; bpm?: number | null; tags?: string[]; created_at?: string }
        Relationships: [
          { foreignKeyName: 'songs_band_id_fkey'; columns: ['band_id']; isOneToOne: false; referencedRelation: 'bands'; referencedColumns: ['id'] },
        ]
      }
      bands: {
        Row: { id: string; name: string; owner: string; settings: Json }
        Insert: { id?: string; name: string; owner: string; settings?: Json }
        Update: { id?: string; name?: string; owner?: string; settings?: Json }
        Relationships: []
      }
      messages: {
        Row: { id: string; room: string; author: string; body: string; status: Database['public']['Enums']['message_status']; sent_at: string }
        Insert: { id?: string; room: string; author: string; body: string; status?: Database['public']['Enums']['message_status']; sent_at?: string }
        Update: { id?: string; room?: string; author?: string; body?: string; status?: Database['public']['Enums']['message_status']; sent_at?: string }
        Relationships: []
      }
    }
    Views: {
      band_sizes: { Row: { band_id: string | null; members: number | null }; Relationships: [] }
    }
    Functions: {
      join_band: { Args: { band: string }; Returns: boolean }
    }
    Enums: { message_status: 'sent' | 'edited' | 'deleted' }
    CompositeTypes: { [_ in never]: never }
  }
  audit: {
    Tables: {
      events: {
        Row: { id: number; kind: string; at: string }
        Insert: { id?: number; kind: string; at?: string }
        Update: { id?: number; kind?: string; at?: string }
        Relationships: []
      }
    }
    Views: { [_ in never]: never }
    Functions: { [_ in never]: never }
    Enums: { [_ in never]: never }
    CompositeTypes: { [_ in never]: never }
  }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>
type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, 'public'>]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema['Tables'] & DefaultSchema['Views'])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables'] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Views'])
    : never = never,
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Tables'] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions['schema']]['Views'])[TableName] extends { Row: infer R }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema['Tables'] & DefaultSchema['Views'])
    ? (DefaultSchema['Tables'] & DefaultSchema['Views'])[DefaultSchemaTableNameOrOptions] extends { Row: infer R }
      ? R
      : never
    : never

export type TablesInsert<T extends keyof DefaultSchema['Tables']> = DefaultSchema['Tables'][T] extends { Insert: infer I } ? I : never
export type TablesUpdate<T extends keyof DefaultSchema['Tables']> = DefaultSchema['Tables'][T] extends { Update: infer U } ? U : never
export type Enums<T extends keyof DefaultSchema['Enums']> = DefaultSchema['Enums'][T]
